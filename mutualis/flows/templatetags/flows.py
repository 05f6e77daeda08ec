"""Display helpers of the flows' pages."""

from __future__ import annotations

from typing import Any

from django import template

from mutualis.flows.enums import Action, State
from mutualis.flows.forms import NATURE_CHOICES

register = template.Library()


@register.filter
def act_nature(code: Any) -> str:
    """An act's @CTES nature code with its name: 1 → « 1 · Délibération »."""
    return str(dict(NATURE_CHOICES).get(code, code))


@register.filter
def action_label(code: str) -> str:
    """A log entry's action in words (« transmission à la préfecture »); an unknown code as is."""
    return str(Action(code).label) if code in Action.values else code


@register.filter
def state_label(code: str) -> str:
    """A state in words (« acquitté par la préfecture »); empty → « — »."""
    if not code:
        return "—"
    return str(State(code).label) if code in State.values else code
