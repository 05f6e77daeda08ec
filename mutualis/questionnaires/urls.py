"""Routes of questionnaires under /assistance/ (the paths users know): the catalogue, filling one
in, and the builder."""

from django.urls import path

from mutualis.questionnaires import views

app_name = "questionnaires"
MANAGE = "gestion/formulaires/"
urlpatterns = [
    path("nouvelle/", views.catalogue, name="catalogue"),
    path("formulaires/<slug:slug>/", views.fill, name="fill"),
    path(MANAGE, views.manage_list, name="manage_list"),
    path(f"{MANAGE}nouveau/", views.manage_create, name="manage_create"),
    path(f"{MANAGE}<slug:slug>/", views.manage, name="manage"),
    path(f"{MANAGE}<slug:slug>/modifier/", views.manage_edit, name="manage_edit"),
    path(f"{MANAGE}<slug:slug>/supprimer/", views.manage_delete, name="manage_delete"),
    path(f"{MANAGE}<slug:slug>/sections/nouvelle/", views.section_create, name="section_create"),
    path(f"{MANAGE}<slug:slug>/sections/<int:pk>/", views.section_edit, name="section_edit"),
    path(f"{MANAGE}<slug:slug>/sections/<int:pk>/supprimer/", views.section_delete, name="section_delete"),
    path(f"{MANAGE}<slug:slug>/questions/nouvelle/", views.question_create, name="question_create"),
    path(f"{MANAGE}<slug:slug>/questions/<int:pk>/", views.question_edit, name="question_edit"),
    path(f"{MANAGE}<slug:slug>/questions/<int:pk>/supprimer/", views.question_delete, name="question_delete"),
    path(f"{MANAGE}<slug:slug>/<str:kind>/<int:pk>/deplacer/", views.item_move, name="item_move"),
]
