from django.urls import path

from mutualis.finance import views

app_name = "finance"
urlpatterns = [
    path("", views.index, name="index"),
    path("budgets/<slug:slug>/import/", views.execution_import, name="import"),
    path("budgets/<slug:slug>/evolution/", views.evolution, name="evolution"),
    path("budgets/<slug:slug>/dette/", views.debt, name="debt"),
    path("budgets/<slug:slug>/emprunts/nouveau/", views.loan_create, name="loan_create"),
    path("budgets/<slug:slug>/<int:year>/", views.budget_year, name="budget"),
    path("budgets/<slug:slug>/<int:year>/resultats/", views.results, name="results"),
    path("budgets/<slug:slug>/<int:year>/scdl.csv", views.scdl_export, name="scdl"),
    path("contributions/<int:year>/", views.contributions, name="contributions"),
    path("contributions/<int:year>/<slug:org>/", views.statement, name="statement"),
    path("contributions/<int:year>/<slug:org>/releve.csv", views.statement_csv, name="statement_csv"),
    path("contributions/<int:year>/<slug:org>/releve.pdf", views.statement_pdf, name="statement_pdf"),
]
