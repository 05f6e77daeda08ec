"""Display helpers of the flows' pages."""

from __future__ import annotations

from typing import Any

from django import template

from mutualis.flows.forms import NATURE_CHOICES

register = template.Library()


@register.filter
def act_nature(code: Any) -> str:
    """An act's @CTES nature code with its name: 1 → « 1 · Délibération »."""
    return str(dict(NATURE_CHOICES).get(code, code))
