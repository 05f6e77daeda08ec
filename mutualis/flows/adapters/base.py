"""What every adapter shares: its settings' description, HTTP calls that raise the ports' errors, the registry.

An adapter class declares `kind`, `port`, `label` and `settings` (a tuple of `Setting`), is built by
`from_config(config, timeout=…)` and registers itself with `@register`, so the engine finds it by the
connector type stored on a connector instance (`ADAPTERS["s2low"]`).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mutualis.flows.ports import RecoverableError, UnrecoverableError

StrOrPromise = str | Promise

# How much of a service's answer goes into an error's message (the whole answer goes into `detail`).
MESSAGE_EXCERPT = 300
DETAIL_EXCERPT = 4000


@dataclass(frozen=True)
class Setting:
    """One value a connector instance holds; `secret` ones are encrypted at rest and never shown back."""

    name: str
    label: StrOrPromise
    secret: bool = False
    required: bool = True
    help: StrOrPromise = ""


# Settings every connector has beside its adapter's own: how often the engine polls the service, and
# how long a call waits for its answer before it counts as a failed try (retried with the backoff).
POLL_SECONDS = "poll_seconds"
TIMEOUT_SECONDS = "timeout_seconds"
DEFAULT_TIMEOUT = 30.0
TIMEOUT_RANGE = (1, 600)
COMMON_SETTINGS = (
    Setting(
        POLL_SECONDS,
        gettext_lazy("Interroger le service toutes les (secondes)"),
        required=False,
        help=gettext_lazy("Vide : le rythme prévu pour ce type de service (de 1 à 30 minutes)."),
    ),
    Setting(
        TIMEOUT_SECONDS,
        gettext_lazy("Attendre la réponse du service au plus (secondes)"),
        required=False,
        help=gettext_lazy("Vide : 30 secondes. Au-delà, l'appel compte comme un essai manqué, refait plus tard."),
    ),
)


def timeout_of(config: Mapping[str, Any]) -> float:
    """The connector's answer timeout: its `timeout_seconds` when set (checked on save), else 30 s."""
    value = str(config.get(TIMEOUT_SECONDS, "")).strip()
    return float(value) if value.isdigit() and int(value) > 0 else DEFAULT_TIMEOUT


ADAPTERS: dict[str, type] = {}

AdapterClass = TypeVar("AdapterClass", bound=type)


def register(cls: AdapterClass) -> AdapterClass:
    """Class decorator: the adapter becomes available under its `kind`; two adapters cannot share one."""
    kind = getattr(cls, "kind", "")
    if not kind:
        raise TypeError(f"{cls.__name__} has no `kind`")
    if ADAPTERS.get(kind, cls) is not cls:
        raise ValueError(f"connector kind {kind!r} is already registered by {ADAPTERS[kind].__name__}")
    ADAPTERS[kind] = cls
    return cls


def required(config: Mapping[str, str], settings: tuple[Setting, ...]) -> dict[str, str]:
    """The config's values for `settings`, stripped; a required one missing is an UnrecoverableError."""
    values = {s.name: (config.get(s.name) or "").strip() for s in settings}
    missing = [str(s.label) for s in settings if s.required and not values[s.name]]
    if missing:
        raise UnrecoverableError(_("Paramètre manquant : %(names)s.") % {"names": ", ".join(missing)})
    return values


def _answer_text(response: requests.Response) -> str:
    try:
        return response.text.strip()
    except (UnicodeDecodeError, LookupError):
        return repr(response.content[:DETAIL_EXCERPT])


def http(
    method: str,
    url: str,
    *,
    service: str,
    timeout: float,
    session: requests.Session | None = None,
    **kwargs: Any,
) -> requests.Response:
    """One HTTP call through `requests`, its failures turned into the ports' errors.

    A timeout, a refused or broken connection, a 5xx or a 429 may pass: RecoverableError. Any other
    4xx will not change by trying again: UnrecoverableError with the service's own message. A TLS
    failure (certificate refused or not trusted) is a setting to fix: UnrecoverableError. 2xx and 3xx
    are returned as they are; reading the body is the adapter's business.
    """
    caller = session or requests
    try:
        response = caller.request(method, url, timeout=timeout, **kwargs)
    except requests.Timeout as exc:
        raise RecoverableError(
            _("%(service)s n'a pas répondu dans les %(seconds)s s.") % {"service": service, "seconds": f"{timeout:g}"},
            detail=str(exc),
        ) from exc
    except requests.exceptions.SSLError as exc:
        raise UnrecoverableError(
            _("%(service)s : la connexion sécurisée a échoué (certificat refusé ou non reconnu).")
            % {"service": service},
            detail=str(exc),
        ) from exc
    except requests.ConnectionError as exc:
        raise RecoverableError(
            _("%(service)s est injoignable (%(url)s).") % {"service": service, "url": url}, detail=str(exc)
        ) from exc
    except requests.RequestException as exc:
        raise UnrecoverableError(
            _("%(service)s : la requête n'a pas pu être envoyée.") % {"service": service}, detail=str(exc)
        ) from exc
    status = response.status_code
    if status >= 500 or status == 429:
        text = _answer_text(response)
        raise RecoverableError(
            _("%(service)s est indisponible (HTTP %(status)s).") % {"service": service, "status": status},
            detail=text[:DETAIL_EXCERPT],
        )
    if status >= 400:
        text = _answer_text(response)
        raise UnrecoverableError(
            _("%(service)s a refusé la demande (HTTP %(status)s) : %(message)s")
            % {"service": service, "status": status, "message": text[:MESSAGE_EXCERPT] or response.reason},
            detail=text[:DETAIL_EXCERPT],
        )
    return response


@contextmanager
def pem_files(*pems: str) -> Iterator[list[str | None]]:
    """Each PEM text written to a private temporary file (mode 0600) for the call only, then removed.

    requests and ssl read certificates and keys from paths; the PEMs are secrets decrypted from a
    connector instance and must not linger on disk. An empty PEM gives None.
    """
    paths: list[str | None] = []
    try:
        for pem in pems:
            if not pem:
                paths.append(None)
                continue
            fd, path = tempfile.mkstemp(prefix="mutualis-flows-", suffix=".pem")
            paths.append(path)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(pem)
        yield paths
    finally:
        for written in paths:
            if written:
                os.unlink(written)
