from django.urls import path

from mutualis.finance import views

app_name = "finance"
urlpatterns = [
    path("", views.index, name="index"),
    path("budgets/<slug:slug>/import/", views.execution_import, name="import"),
    path("budgets/<slug:slug>/evolution/", views.evolution, name="evolution"),
    path("budgets/<slug:slug>/dette/", views.debt, name="debt"),
    path("budgets/<slug:slug>/emprunts/nouveau/", views.loan_create, name="loan_create"),
    path("budgets/<slug:slug>/emprunts/<int:pk>/modifier/", views.loan_edit, name="loan_edit"),
    path("budgets/<slug:slug>/<int:year>/", views.budget_year, name="budget"),
    path("budgets/<slug:slug>/<int:year>/resultats/", views.results, name="results"),
    path("budgets/<slug:slug>/<int:year>/scdl.csv", views.scdl_export, name="scdl"),
    path("budgets/<slug:slug>/<int:year>/cofinancement/", views.cofinancing_edit, name="cofinancing_edit"),
    path("contributions/cles/", views.contribution_keys, name="keys"),
    path("contributions/cles/nouvelle/", views.contribution_key_create, name="key_create"),
    path("contributions/cles/<slug:slug>/modifier/", views.contribution_key_edit, name="key_edit"),
    path("contributions/appel/nouveau/", views.contribution_call_create, name="call_create"),
    path("contributions/<int:year>/appel/modifier/", views.contribution_call_edit, name="call_edit"),
    path("contributions/<int:year>/appel/prix/", views.application_prices, name="prices"),
    path("contributions/<int:year>/", views.contributions, name="contributions"),
    path("contributions/<int:year>/<slug:org>/", views.statement, name="statement"),
    path("contributions/<int:year>/<slug:org>/releve.csv", views.statement_csv, name="statement_csv"),
    path("contributions/<int:year>/<slug:org>/releve.pdf", views.statement_pdf, name="statement_pdf"),
]
