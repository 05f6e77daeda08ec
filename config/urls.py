"""URL map: one include per app, the REST API under /api/v1/."""

from django.urls import include, path

from mutualis.api.api import api
from mutualis.core.api_errors import api_urls
from mutualis.flows.api import api as flows_api

urlpatterns = [
    path("", include("mutualis.core.urls_monitoring")),  # /sante/, /metriques/: for machines, no login
    path("", include("mutualis.core.urls")),
    path("comptes/", include("mutualis.accounts.urls")),
    path("adherents/", include("mutualis.members.urls")),
    path("gouvernance/", include("mutualis.governance.urls")),
    path("catalogue/", include("mutualis.catalog.urls")),
    path("marches/", include("mutualis.procurement.urls")),
    path("marches/", include("mutualis.ola.urls")),  # a contract's maintenance commitments
    path("finances/", include("mutualis.finance.urls")),
    path("assistance/", include("mutualis.helpdesk.urls")),
    path("assistance/", include("mutualis.questionnaires.urls")),  # the request forms, same paths as before
    path("connaissances/", include("mutualis.knowledge.urls")),
    path("qualite/", include("mutualis.quality.urls")),
    path("avis/", include("mutualis.notices.urls")),
    path("", include("mutualis.identity.urls")),
    path("donnees-personnelles/", include("mutualis.privacy.urls")),
    path("flux/", include("mutualis.flows.urls")),
    path("actes/", include("mutualis.publication.urls")),  # public: the members' published acts, no login
    path("api/v1/flux/", api_urls(flows_api)),  # its own tokens, scoped to one member and one flow
    path("api/v1/", api_urls(api)),  # a wrong method answers JSON too
    path("i18n/", include("django.conf.urls.i18n")),
]

# JSON under /api/, Django's pages elsewhere.
handler400 = "mutualis.core.errors.bad_request"
handler403 = "mutualis.core.errors.permission_denied"
handler404 = "mutualis.core.errors.page_not_found"
handler500 = "mutualis.core.errors.server_error"
