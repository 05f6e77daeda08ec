"""Finance: budgets and their execution, results and their allocation, five-year analysis, debt
and member contributions."""

from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "mutualis.finance"
    label = "finance"
    verbose_name = "Finances"
