"""Whether an inbound message may be believed: what the receiving server says of it
(`Authentication-Results`, RFC 8601) and whether its From is one unambiguous author.

Only headers written by a trusted server count: their authserv-id must be listed in
settings.HELPDESK_TRUSTED_AUTHSERV_IDS; any other Authentication-Results header may have been
written by the sender and is ignored (RFC 8601 §5; that server must also delete incoming headers
that claim its own authserv-id, which Postfix with OpenDMARC, rspamd and Exim all do).

A small parser rather than a dependency: `authres` (last release 2019) is unmaintained and
`authheaders` brings DKIM/DNS verification that the receiving server has already done."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class MethodResult:
    """One `method=result` of a header, with its properties (`header.from`, `header.d`, …),
    names lowercased."""

    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AuthenticationResults:
    authserv_id: str
    results: tuple[MethodResult, ...]


def _strip_comments(value: str) -> str:
    """RFC 5322 comments (nested, with quoted-pairs) removed; quoted strings kept as they are."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for ch in value:
        if escaped:
            if not depth:
                out.append(ch)
            escaped = False
        elif ch == "\\" and (quoted or depth):
            escaped = True
            if not depth:
                out.append(ch)
        elif quoted:
            out.append(ch)
            if ch == '"':
                quoted = False
        elif ch == '"' and not depth:
            quoted = True
            out.append(ch)
        elif ch == "(":
            depth += 1
            out.append(" ")
        elif ch == ")" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    return "".join(out)


def _split(value: str, separator: str) -> list[str]:
    """`value` split on `separator` outside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in value:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == separator and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


_ASSIGNMENT = re.compile(r'([^\s=]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]+)')


def parse_authentication_results(value: str) -> AuthenticationResults | None:
    """One Authentication-Results header value; None when it cannot be read (no authserv-id)."""
    pieces = _split(_strip_comments(" ".join(str(value).split())), ";")
    head = pieces[0].split()
    if not head:
        return None
    authserv_id = _unquote(head[0]).lower()
    results: list[MethodResult] = []
    for piece in pieces[1:]:
        pairs = [(name.lower(), _unquote(val)) for name, val in _ASSIGNMENT.findall(piece)]
        if not pairs:
            continue  # "none", or an empty resinfo
        method, result = pairs[0]
        method = method.split("/", 1)[0]  # "dkim/1=pass": a method version
        properties = {name: val for name, val in pairs[1:] if name != "reason"}
        results.append(MethodResult(method=method, result=result.lower(), properties=properties))
    return AuthenticationResults(authserv_id=authserv_id, results=tuple(results))


def trusted_results(message: EmailMessage, trusted_ids: Iterable[str]) -> list[MethodResult]:
    """Every result written by a trusted server, in header order; others are ignored."""
    trusted = {item.strip().lower() for item in trusted_ids if item.strip()}
    found: list[MethodResult] = []
    for value in message.get_all("Authentication-Results") or []:
        parsed = parse_authentication_results(str(value))
        if parsed is not None and parsed.authserv_id in trusted:
            found.extend(parsed.results)
    return found


def _aligned(domain: str, signer: str) -> bool:
    """Relaxed alignment (RFC 7489 §3.1.1), without a public-suffix list: the From domain is
    the signing domain or one of its subdomains."""
    domain, signer = domain.lower().rstrip("."), signer.lower().rstrip(".")
    return bool(signer) and (domain == signer or domain.endswith("." + signer))


def _signer(result: MethodResult) -> str:
    """The signing domain: header.d, or the domain of header.i (the agent or user identifier)."""
    return result.properties.get("header.d") or result.properties.get("header.i", "").rpartition("@")[2]


@dataclass(frozen=True)
class Verdict:
    """`refusal` says why the message may not be believed at all (None: it may); `authenticated`
    says whether a trusted server vouches that its From domain is genuine."""

    refusal: str | None
    authenticated: bool


def sender_problem(message: EmailMessage) -> str | None:
    """Several authors, or a Sender other than From: which of them would be acting is unclear."""
    try:
        authors = [a.addr_spec.lower() for a in message["From"].addresses] if message["From"] is not None else []
        senders = [a.addr_spec.lower() for a in message["Sender"].addresses] if message["Sender"] is not None else []
    except (AttributeError, IndexError, ValueError):
        return _("en-tête From ou Sender illisible")
    if len(message.get_all("From") or []) > 1 or len(authors) > 1:
        return _("plusieurs adresses d'expéditeur (From)")
    if senders and (len(senders) > 1 or senders[0] not in authors):
        return _("l'en-tête Sender (%(sender)s) n'est pas l'expéditeur (From)") % {"sender": ", ".join(senders)}
    return None


def verdict(message: EmailMessage, *, sender: str, trusted_ids: Sequence[str]) -> Verdict:
    """What the trusted servers say of `message`, whose From address is `sender`."""
    problem = sender_problem(message)
    if problem:
        return Verdict(problem, authenticated=False)
    domain = sender.rpartition("@")[2].lower()
    results = trusted_results(message, trusted_ids)
    by_method: dict[str, list[MethodResult]] = {}
    for item in results:
        by_method.setdefault(item.method, []).append(item)
    dmarc = by_method.get("dmarc", [])
    dkim = by_method.get("dkim", [])
    spf = by_method.get("spf", [])
    if any(r.result == "fail" for r in dmarc):
        return Verdict(_("échec DMARC signalé par le serveur de réception"), authenticated=False)
    if any(r.result == "fail" for r in spf):
        return Verdict(_("échec SPF signalé par le serveur de réception"), authenticated=False)
    # A message may carry a broken signature beside a good one (a list footer, a relay): only
    # when none verifies is DKIM a failure.
    if any(r.result == "fail" for r in dkim) and not any(r.result == "pass" for r in dkim):
        return Verdict(_("échec DKIM signalé par le serveur de réception"), authenticated=False)
    dmarc_pass = any(r.result == "pass" and r.properties.get("header.from", domain).lower() == domain for r in dmarc)
    dkim_pass = any(r.result == "pass" and _aligned(domain, _signer(r)) for r in dkim)
    return Verdict(None, authenticated=dmarc_pass or dkim_pass)
