"""Routes under /flux/: the flows' overview, a member's documents per flow, a document, connectors,
a member's documents in an existing Pastell, its API tokens."""

from django.urls import include, path

from mutualis.flows import views, views_rights, views_tokens

app_name = "flows"

urlpatterns = [
    path("", include("mutualis.flows.payslip_urls")),  # payslips and the secure mail's receipt page
    path("", views.index, name="index"),
    path("documents/<int:pk>/", views.document_detail, name="document"),
    path("documents/<int:pk>/relancer/", views.document_retry, name="retry"),
    path("documents/<int:pk>/annuler/", views.document_cancel, name="cancel"),
    path("documents/<int:pk>/fichiers/<int:file_pk>/", views.file_download, name="file"),
    path("connecteurs/<int:pk>/", views.connector_edit, name="connector_edit"),
    path("connecteurs/<int:pk>/tester/", views.connector_check, name="connector_check"),
    path("<slug:slug>/connecteurs/", views.connector_list, name="connectors"),
    path("<slug:slug>/connecteurs/nouveau/<str:kind>/", views.connector_create, name="connector_create"),
    path("<slug:slug>/connecteurs/associations/", views.binding_set, name="binding_set"),
    path("<slug:slug>/classification/", views.classification_fetch, name="classification_fetch"),
    path("<slug:slug>/pastell/", views.pastell_documents, name="pastell"),
    path("<slug:slug>/droits/", views_rights.flow_rights, name="rights"),
    path("<slug:slug>/jetons/", views_tokens.token_list, name="tokens"),
    path("<slug:slug>/jetons/<int:pk>/secret/", views_tokens.token_secret, name="token_secret"),
    path("<slug:slug>/jetons/<int:pk>/revoquer/", views_tokens.token_revoke, name="token_revoke"),
    path("<slug:slug>/<str:flow>/", views.document_list, name="documents"),
    path("<slug:slug>/<str:flow>/nouveau/", views.document_create, name="document_create"),
]
