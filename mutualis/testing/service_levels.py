"""What the helpdesk's migrations write and the flush between live-server tests empties: the
default calendar and the default service-level policies (helpdesk 0002 and 0009). A browser test
that shows clocks puts them back; tests in one transaction keep the migrated rows anyway."""

from __future__ import annotations

import importlib

from django.apps import apps

from mutualis.helpdesk import sla


def default_service_levels() -> None:
    sla.default_calendar()
    importlib.import_module("mutualis.helpdesk.migrations.0009_default_policies").create(apps, None)
    sla.sla_config_changed()
