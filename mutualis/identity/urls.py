from django.urls import path

from mutualis.identity import oidc, views

app_name = "identity"
urlpatterns = [
    path("portail/", views.portal, name="portal"),
    path("annuaire/", views.agent_list, name="agents"),
    path("annuaire/agents/<int:pk>/", views.agent_detail, name="agent_detail"),
    path("annuaire/comptes/", views.account_audit, name="accounts"),
    path("annuaire/attributs/", views.release_register, name="releases"),
    path("annuaire/attributs/<int:pk>/supprimer/", views.release_delete, name="release_delete"),
    path("annuaire/attributs/lemonldap.json", views.release_fragment, name="release_fragment"),
    path("annuaire/annuaire.ldif", views.directory_ldif, name="ldif"),
    path("oidc/authenticate/", oidc.LoginView.as_view(), name="oidc_login"),
    path("oidc/callback/", oidc.CallbackView.as_view(), name="oidc_callback"),
    path("connexion-refusee/", views.sso_refused, name="sso_refused"),
]
