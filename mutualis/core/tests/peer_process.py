"""One app server, for the tests that run two of them (test_several_servers.py): a Django process
on the database and cache its environment names, answering one JSON command per stdin line.

Each command goes through the same services and readers a request would; the answer is one JSON
line, {"ok": value} or {"error": "…"}."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.core.management import call_command  # noqa: E402

from mutualis.accounts.models import Role, User  # noqa: E402
from mutualis.accounts.services import PasswordResetThrottled, password_reset_request  # noqa: E402
from mutualis.catalog.cache import application_by_slug  # noqa: E402
from mutualis.catalog.models import Application  # noqa: E402
from mutualis.catalog.services import application_update  # noqa: E402
from mutualis.core.commands import CommandLocked, command_lock  # noqa: E402
from mutualis.helpdesk import config_services, sla  # noqa: E402
from mutualis.helpdesk.models import SlaPolicy  # noqa: E402
from mutualis.members.cache import operator_label  # noqa: E402
from mutualis.members.models import Organisation  # noqa: E402
from mutualis.members.services import collectivity_update  # noqa: E402
from mutualis.testing import factories as f  # noqa: E402


def _admin() -> User:
    return User.objects.get(username="peer-admin")


def seed() -> dict[str, Any]:
    """The rows both processes read: an operator, its admin, an application, a policy."""
    operator = f.OperatorFactory.create()
    f.UserFactory.create(username="peer-admin", role=Role.OPERATOR_ADMIN, organisation=operator)
    application = f.ApplicationFactory.create(slug="peer-app", name="Avant")
    policy = SlaPolicy.objects.create(name="Pair", calendar=sla.default_calendar(), ttr_value=4, ttr_unit="days")
    return {"application": application.pk, "policy": policy.pk}


def application_name(slug: str) -> str | None:
    found = application_by_slug(slug)
    return found.name if found else None


def application_rename(slug: str, name: str) -> None:
    application_update(actor=_admin(), application=Application.objects.get(slug=slug), data={"name": name})


def policy_ttr(policy_id: int) -> int | None:
    return next((p.ttr_value for p in sla.sla_config().policies if p.id == policy_id), None)


def policy_set_ttr(policy_id: int, value: int) -> None:
    config_services.policy_update(actor=_admin(), policy=SlaPolicy.objects.get(pk=policy_id), data={"ttr_value": value})


def operator_name() -> str | None:
    label = operator_label()
    return label["name"] if label else None


def operator_rename(name: str) -> None:
    operator = Organisation.objects.get(slug="operateur")
    collectivity_update(actor=_admin(), organisation=operator, data={"name": name})


def password_reset(email: str, ip_address: str) -> str:
    try:
        password_reset_request(email=email, ip_address=ip_address)
    except PasswordResetThrottled:
        return "throttled"
    return "sent"


def hold_lock(name: str, seconds: float) -> str:
    """Holds the command lock `name` for `seconds`, or says who holds it."""
    try:
        with command_lock(name):
            time.sleep(seconds)
    except CommandLocked as refused:
        return f"locked by {refused.lock.holder}"
    return "held"


COMMANDS = {
    "seed": seed,
    "migrate": lambda: call_command("migrate", verbosity=0),
    "application_name": application_name,
    "application_rename": application_rename,
    "policy_ttr": policy_ttr,
    "policy_set_ttr": policy_set_ttr,
    "operator_name": operator_name,
    "operator_rename": operator_rename,
    "password_reset": password_reset,
    "hold_lock": hold_lock,
    "pid": os.getpid,
}


def main() -> None:
    print(json.dumps({"ok": "ready"}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = {"ok": COMMANDS[request["command"]](*request.get("args", []))}
        except Exception as error:  # the test reads it
            answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
