from django.urls import path

from mutualis.governance import views

app_name = "governance"
urlpatterns = [path("", views.governance_index, name="index")]
