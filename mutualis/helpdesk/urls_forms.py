"""Routes of the online request forms, their builder and the satisfaction survey."""

from django.urls import path

from mutualis.helpdesk import views_forms as views

MANAGE = "gestion/formulaires/"
urlpatterns = [
    path("nouvelle/", views.form_catalogue, name="form_catalogue"),
    path("formulaires/<slug:slug>/", views.form_fill, name="form_fill"),
    path("enquete/<str:token>/", views.survey, name="survey"),
    path(MANAGE, views.form_manage_list, name="form_manage_list"),
    path(f"{MANAGE}nouveau/", views.form_manage_create, name="form_manage_create"),
    path(f"{MANAGE}<slug:slug>/", views.form_manage, name="form_manage"),
    path(f"{MANAGE}<slug:slug>/modifier/", views.form_manage_edit, name="form_manage_edit"),
    path(f"{MANAGE}<slug:slug>/supprimer/", views.form_manage_delete, name="form_manage_delete"),
    path(f"{MANAGE}<slug:slug>/sections/nouvelle/", views.section_create, name="section_create"),
    path(f"{MANAGE}<slug:slug>/sections/<int:pk>/", views.section_edit, name="section_edit"),
    path(f"{MANAGE}<slug:slug>/sections/<int:pk>/supprimer/", views.section_delete, name="section_delete"),
    path(f"{MANAGE}<slug:slug>/questions/nouvelle/", views.question_create, name="question_create"),
    path(f"{MANAGE}<slug:slug>/questions/<int:pk>/", views.question_edit, name="question_edit"),
    path(f"{MANAGE}<slug:slug>/questions/<int:pk>/supprimer/", views.question_delete, name="question_delete"),
    path(f"{MANAGE}<slug:slug>/<str:kind>/<int:pk>/deplacer/", views.item_move, name="item_move"),
]
