from django.urls import path

from mutualis.governance import views

app_name = "governance"
urlpatterns = [
    path("", views.governance_index, name="index"),
    path("mandats/nouveau/", views.mandate_create, name="mandate_create"),
    path("mandats/<int:pk>/fin/", views.mandate_end, name="mandate_end"),
]
