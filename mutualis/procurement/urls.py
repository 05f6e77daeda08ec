from django.urls import path, re_path

from mutualis.procurement import views

app_name = "procurement"
urlpatterns = [
    path("", views.contract_index, name="list"),
    re_path(r"^registre\.(?P<fmt>csv|xlsx)$", views.contract_export, name="export"),
    path("nouveau/", views.contract_create, name="create"),
    path("import-decp/", views.decp_import, name="decp_import"),
    path("decp/<int:year>.json", views.decp_download, name="decp_download"),
    path("seuils/", views.threshold_index, name="thresholds"),
    path("seuils/nouveau/", views.threshold_create, name="threshold_create"),
    path("echeances/", views.dashboard, name="dashboard"),
    path("<str:code>/", views.contract_detail, name="detail"),
    path("<str:code>/modifier/", views.contract_edit, name="edit"),
    path("<str:code>/reconduction/", views.renewal_create, name="renew"),
    path("<str:code>/lots/nouveau/", views.lot_create, name="lot_create"),
]
