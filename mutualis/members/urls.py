from django.urls import path

from mutualis.members import views

app_name = "members"
urlpatterns = [
    path("", views.member_list, name="list"),
    path("nouvelle/", views.member_create, name="create"),
    path("<slug:slug>/", views.member_detail, name="detail"),
    path("<slug:slug>/modifier/", views.member_edit, name="edit"),
    path("<slug:slug>/contacts/", views.contact_add, name="contact_add"),
    path("<slug:slug>/contacts/<int:pk>/supprimer/", views.contact_delete, name="contact_delete"),
]
