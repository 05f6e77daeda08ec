"""The quality pages' number filters: a missing rate is a dash, never a bare « % »."""

from django.template import Context, Template

from mutualis.quality.templatetags.quality import DASH


def render(source: str, **context: object) -> str:
    return Template("{% load quality %}" + source).render(Context(context))


def test_a_month_without_tickets_shows_a_dash_not_a_bare_percent_sign() -> None:
    assert render("{{ row.sla_ttr_pct|pct }}", row={}) == DASH
    assert render("{{ rate|pct }}", rate=None) == DASH


def test_a_rate_is_shown_with_one_decimal_and_its_sign() -> None:
    assert render("{{ rate|pct }}", rate=66.7) in {"66,7 %", "66.7 %"}
    assert render("{{ rate|pct }}", rate=0.0).endswith(" %")
