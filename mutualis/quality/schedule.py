"""The quality app's periodic job: each month's service reports, on the first working day of the
next month, caught up month by month after downtime (none may be skipped)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mutualis.core.scheduler import CatchUp, Monthly, job_register, local_zone
from mutualis.quality.kpis import Month
from mutualis.quality.reports import first_working_day
from mutualis.quality.selectors import month_shift


@dataclass(frozen=True)
class FirstWorkingDay(Monthly):
    """Monthly, on the first working day (not a weekend nor a public holiday) at HH:MM."""

    @property
    def label(self) -> str:
        return _("chaque mois, le premier jour ouvré à %(time)s") % {"time": f"{self.hour:02d}:{self.minute:02d}"}

    def day_in(self, year: int, month: int) -> dt.date:
        return first_working_day(year, month)


def report_month(due: dt.datetime) -> list[str]:
    """The period due in month M produces the reports of month M-1."""
    local = due.astimezone(local_zone())
    return ["--month", str(month_shift(Month(local.year, local.month), -1))]


def register() -> None:
    job_register(
        "quality_monthly_reports",
        command="quality_monthly_reports",
        period=FirstWorkingDay(hour=6, minute=30),
        args_for=report_month,
        catch_up=CatchUp.EACH,
        description=gettext_lazy("rapports de service mensuels des adhérents (mois précédent)"),
    )
