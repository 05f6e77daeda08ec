"""Parts of a page that the apps above contribute to a lower app's page: the page names a slot
(`core.home.cards`, `members.detail`…), each app above registers what it shows there from its
AppConfig.ready, and the page renders them in order. The lower app never imports the higher ones
(docs/architecture.md, "Layers"). A panel may be for some accounts only (`visible`, e.g. a role's
part of the home page): its context is then not even computed for the others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    # (request, **what the page passes) -> the template's context
    context: Callable[..., dict[str, Any]]
    # (request) -> whether this account sees the panel; None: everyone the page lets in
    visible: Callable[[HttpRequest], bool] | None = None


_slots: dict[str, list[Panel]] = {}


def panel_register(
    slot: str,
    *,
    order: int,
    template: str,
    context: Callable[..., dict[str, Any]],
    visible: Callable[[HttpRequest], bool] | None = None,
) -> None:
    """Show `template` in `slot`, lowest `order` first, to the accounts `visible` accepts (all
    when None); registering the same template again replaces it (ready() may run twice in tests)."""
    panels = [panel for panel in _slots.get(slot, []) if panel.template != template]
    panels.append(Panel(order=order, template=template, context=context, visible=visible))
    _slots[slot] = sorted(panels, key=lambda panel: panel.order)


def panels_render(slot: str, request: HttpRequest, **kwargs: Any) -> list[SafeString]:
    """The slot's panels this account sees as HTML, each rendered with the request (CSRF token, user)."""
    return [
        render_to_string(panel.template, panel.context(request, **kwargs), request=request)
        for panel in _slots.get(slot, [])
        if panel.visible is None or panel.visible(request)
    ]
