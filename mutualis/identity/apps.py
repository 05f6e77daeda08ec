"""Identity: the agents directory from HR exports, single sign-on through LemonLDAP::NG, the portal."""

from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "mutualis.identity"
    label = "identity"
    verbose_name = "Identité et annuaire"

    def ready(self) -> None:
        # Imported here: oidc reaches mozilla-django-oidc's views and the models, loaded once apps are ready.
        from mutualis.accounts.views import logout_target_register
        from mutualis.identity.oidc import sso_logout_target

        logout_target_register(sso_logout_target)
