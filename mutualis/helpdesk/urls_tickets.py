"""Ticket routes under /assistance/: "Mes demandes" or the staff queue, the ticket page and the
forms acting on it, saved views, bulk actions and answer templates."""

from django.urls import path

from mutualis.helpdesk import views, views_staff

urlpatterns = [
    path("", views.ticket_index, name="index"),
    path("lot/", views_staff.bulk_update, name="bulk"),
    path("vues/", views_staff.saved_view_create, name="view_create"),
    path("vues/<int:pk>/supprimer/", views_staff.saved_view_delete, name="view_delete"),
    path("modeles/", views_staff.answer_template_index, name="answer_templates"),
    path("modeles/nouveau/", views_staff.answer_template_create, name="answer_template_create"),
    path("modeles/texte/", views_staff.answer_template_body, name="answer_template_body"),
    path("modeles/<int:pk>/", views_staff.answer_template_edit, name="answer_template_edit"),
    path("modeles/<int:pk>/supprimer/", views_staff.answer_template_delete, name="answer_template_delete"),
    path("tickets/<str:reference>/", views.ticket_detail, name="ticket"),
    path("tickets/<str:reference>/suivi/", views.followup_create, name="followup"),
    path("tickets/<str:reference>/statut/", views.ticket_transition, name="transition"),
    path("tickets/<str:reference>/pieces-jointes/", views.attachment_create, name="attachment_create"),
    path("tickets/<str:reference>/pieces-jointes/<int:pk>/", views.attachment_download, name="attachment"),
    path("tickets/<str:reference>/demande-liee/", views.linked_create, name="linked_create"),
    path("tickets/<str:reference>/attribuer/", views_staff.ticket_assign, name="assign"),
    path("tickets/<str:reference>/taches/", views_staff.task_create, name="task_create"),
    path("tickets/<str:reference>/requalifier/", views_staff.ticket_requalify, name="requalify"),
    path("tickets/<str:reference>/fusionner/", views_staff.ticket_merge, name="merge"),
]
