"""Route of the satisfaction survey (the closure mail's link, answered without logging in)."""

from django.urls import path

from mutualis.helpdesk.views import survey

urlpatterns = [
    path("enquete/<str:token>/", survey.survey, name="survey"),
]
