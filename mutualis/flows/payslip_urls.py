"""Routes of the payslips and the secure mail's public receipt page, included first in flows/urls.py."""

from django.urls import path

from mutualis.flows import views_payslips

urlpatterns = [
    path("courrier/<str:token>/", views_payslips.mailsec_receipt, name="mailsec_receipt"),
    path("courrier/<str:token>/telecharger/", views_payslips.mailsec_download, name="mailsec_download"),
    path("paie/lots/<int:pk>/", views_payslips.batch_detail, name="payslip_batch"),
    path("<slug:slug>/paie/", views_payslips.batch_list, name="payslip_batches"),
]
