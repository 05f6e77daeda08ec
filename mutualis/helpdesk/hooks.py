"""After-transition hooks: an app above the helpdesk (the vendor clocks of `ola`) reacts to a
status change in the same transaction, without the helpdesk importing it. The app registers its
hook from its AppConfig.ready (docs/architecture.md, "Layers")."""

from __future__ import annotations

from collections.abc import Callable

from mutualis.helpdesk.models import Ticket, TransitionLog

# (the ticket as changed, its new log row) -> None; runs inside the transition's transaction.
TransitionHook = Callable[[Ticket, TransitionLog], None]

_hooks: dict[str, TransitionHook] = {}


def transition_hook_register(name: str, hook: TransitionHook) -> None:
    """Call `hook` after every logged status change; registering a name again replaces it
    (ready() may run twice in tests)."""
    _hooks[name] = hook


def transition_hooks_run(ticket: Ticket, row: TransitionLog) -> None:
    for hook in list(_hooks.values()):
        hook(ticket, row)
