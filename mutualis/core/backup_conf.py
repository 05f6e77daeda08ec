"""Reading the backup settings from the environment (no Django import: config/settings.py uses it
before the apps load)."""

from __future__ import annotations

import re

from mutualis.lib.env import ConfigError

_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_backup_at(name: str, value: str) -> tuple[int, int] | None:
    """`HH:MM` (Paris time) when the scheduler runs the nightly backup; empty or `off`: never."""
    value = value.strip()
    if value.lower() in {"", "off", "non", "no", "false", "0"}:
        return None
    match = _TIME.match(value)
    if match is None:
        raise ConfigError(name, f"expected a time HH:MM (e.g. 02:30) or off, got {value!r}")
    return int(match.group(1)), int(match.group(2))
