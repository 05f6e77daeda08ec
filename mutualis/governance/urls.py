from django.urls import path

from mutualis.governance import views

app_name = "governance"
urlpatterns = [
    path("", views.governance_index, name="index"),
    path("instances/nouvelle/", views.body_create, name="body_create"),
    path("instances/<slug:slug>/", views.body_detail, name="body"),
    path("instances/<slug:slug>/modifier/", views.body_edit, name="body_edit"),
    path("instances/<slug:slug>/seances/nouvelle/", views.sitting_create, name="sitting_create"),
    path("mandats/nouveau/", views.mandate_create, name="mandate_create"),
    path("mandats/<int:pk>/fin/", views.mandate_end, name="mandate_end"),
    path("mandats/<int:pk>/remplacer/", views.mandate_replace, name="mandate_replace"),
    path("seances/<int:pk>/", views.sitting_detail, name="sitting"),
    path("seances/<int:pk>/points/", views.item_add, name="item_add"),
    path("seances/<int:pk>/convocation/", views.sitting_convene, name="sitting_convene"),
    path("seances/<int:pk>/presences/", views.sitting_hold, name="sitting_hold"),
    path("seances/<int:pk>/points/<int:item_pk>/vote/", views.item_vote, name="item_vote"),
    path("seances/<int:pk>/cloture/", views.sitting_close, name="sitting_close"),
    path("deliberations/", views.deliberation_register, name="register"),
    path("delegations/", views.delegation_list, name="delegations"),
    path("delegations/nouvelle/", views.delegation_create, name="delegation_create"),
    path("delegations/decisions/nouvelle/", views.decision_create, name="decision_create"),
]
