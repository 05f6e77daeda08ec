from django.urls import path

from mutualis.notices import views

app_name = "notices"
urlpatterns = [
    path("", views.notice_index, name="list"),
    path("nouveau/", views.notice_create, name="create"),
    path("agenda/", views.calendar_page, name="calendar"),
    path("agenda/<str:secret>/avis.ics", views.feed, name="feed"),
    path("adherent/<slug:slug>/", views.member_notices, name="member"),
    path("<int:pk>/", views.notice_detail, name="detail"),
    path("<int:pk>/modifier/", views.notice_edit, name="edit"),
    path("<int:pk>/message/", views.notice_message, name="message"),
    path("<int:pk>/terminer/", views.notice_end, name="end"),
    path("<int:pk>/commencer/", views.notice_transition, {"action": "start"}, name="start"),
    path("<int:pk>/annuler/", views.notice_transition, {"action": "cancel"}, name="cancel"),
    path("<int:pk>/tickets/", views.ticket_link, name="link"),
    path("<int:pk>/tickets/<int:link_pk>/retirer/", views.ticket_unlink, name="unlink"),
    path("<int:pk>/masquer/", views.banner_dismiss, name="dismiss"),
]
