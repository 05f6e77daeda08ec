"""Ticket routes under /assistance/: "Mes demandes" or the staff queue, the ticket page and the
forms acting on it, saved views, bulk actions and answer templates."""

from django.urls import path

from mutualis.helpdesk.views import configuration, member, staff

urlpatterns = [
    path("", member.ticket_index, name="index"),
    path("lot/", staff.bulk_update, name="bulk"),
    path("vues/", staff.saved_view_create, name="view_create"),
    path("vues/<int:pk>/supprimer/", staff.saved_view_delete, name="view_delete"),
    path("modeles/", configuration.answer_template_index, name="answer_templates"),
    path("modeles/nouveau/", configuration.answer_template_create, name="answer_template_create"),
    path("modeles/texte/", staff.answer_template_body, name="answer_template_body"),
    path("modeles/<int:pk>/", configuration.answer_template_edit, name="answer_template_edit"),
    path("modeles/<int:pk>/supprimer/", configuration.answer_template_delete, name="answer_template_delete"),
    path("tickets/<str:reference>/", member.ticket_detail, name="ticket"),
    path("tickets/<str:reference>/suivi/", member.followup_create, name="followup"),
    path("tickets/<str:reference>/direct/", member.ticket_live, name="ticket_live"),
    path("tickets/<str:reference>/satisfaction/", member.satisfaction_create, name="ticket_satisfaction"),
    path("tickets/<str:reference>/statut/", member.ticket_transition, name="transition"),
    path("tickets/<str:reference>/pieces-jointes/", member.attachment_create, name="attachment_create"),
    path("tickets/<str:reference>/pieces-jointes/<int:pk>/", member.attachment_download, name="attachment"),
    path("tickets/<str:reference>/demande-liee/", member.linked_create, name="linked_create"),
    path("tickets/<str:reference>/attribuer/", staff.ticket_assign, name="assign"),
    path("tickets/<str:reference>/taches/", staff.task_create, name="task_create"),
    path("tickets/<str:reference>/requalifier/", staff.ticket_requalify, name="requalify"),
    path("tickets/<str:reference>/fusionner/", staff.ticket_merge, name="merge"),
]
