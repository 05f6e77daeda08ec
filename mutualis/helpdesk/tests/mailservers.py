"""Real local mail servers for the mail tests: an SMTP server (aiosmtpd) that keeps what it
receives, and a small IMAP4rev1 server speaking what imaplib's client sends."""

from __future__ import annotations

import email
import email.policy
import re
import socket
import socketserver
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        # Django folds an encoded subject right after "Subject:", which unfolds to a leading
        # space; mail clients strip it, so do we.
        return str(self.message["Subject"]).strip()

    @property
    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    @property
    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


class Inbox:
    """aiosmtpd handler: every DATA is parsed and kept."""

    def __init__(self) -> None:
        self.messages: list[Received] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        return [m for m in self.messages if address in m.rcpt_tos]

    def clear(self) -> None:
        self.messages.clear()


@pytest.fixture(name="smtp_server")
def smtp_server_fixture(settings):
    """An SMTP server on 127.0.0.1 and a free port; Django's SMTP backend pointed at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    settings.DEFAULT_FROM_EMAIL = "assistance@mutualis.test"
    settings.MUTUALIS_BASE_URL = "https://mutualis.test"
    try:
        yield inbox
    finally:
        controller.stop()


# -- IMAP ---------------------------------------------------------------------------------------
@dataclass
class Mailbox:
    user: str
    password: str
    name: str = "INBOX"
    messages: list[tuple[bytes, set[str]]] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def deliver(self, raw: bytes) -> None:
        with self.lock:
            self.messages.append((raw, set()))

    def flags(self, number: int) -> set[str]:
        return self.messages[number - 1][1]


_COMMAND = re.compile(rb"^(\S+) (\S+)(?: (.*))?$")


class _ImapHandler(socketserver.StreamRequestHandler):
    """One IMAP4rev1 session (RFC 3501): CAPABILITY, LOGIN, SELECT, SEARCH, FETCH, STORE, NOOP,
    LOGOUT, with sequence numbers. Literals are not accepted from the client (imaplib sends
    none for these commands)."""

    mailbox: Mailbox

    def send(self, line: bytes | str) -> None:
        self.wfile.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

    def handle(self) -> None:
        box = self.server.mailbox  # type: ignore[attr-defined]
        authenticated = selected = False
        self.send("* OK [CAPABILITY IMAP4rev1] mutualis test IMAP ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            match = _COMMAND.match(line.rstrip(b"\r\n"))
            if not match:
                self.send("* BAD malformed command")
                continue
            tag, verb, rest = match.group(1).decode(), match.group(2).decode().upper(), (match.group(3) or b"").decode()
            box.commands.append(verb)
            if verb == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1")
                self.send(f"{tag} OK CAPABILITY completed")
            elif verb == "NOOP":
                self.send(f"{tag} OK NOOP completed")
            elif verb == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            elif verb == "LOGIN":
                user, password = [part.strip('"') for part in _split(rest)]
                if (user, password) == (box.user, box.password):
                    authenticated = True
                    self.send(f"{tag} OK LOGIN completed")
                else:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] invalid credentials")
            elif not authenticated:
                self.send(f"{tag} BAD log in first")
            elif verb in {"SELECT", "EXAMINE"}:
                if rest.strip('"') != box.name:
                    self.send(f"{tag} NO no such mailbox")
                    continue
                selected = True
                with box.lock:
                    count = len(box.messages)
                    unseen = sum(1 for _raw, flags in box.messages if "\\Seen" not in flags)
                self.send("* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)")
                self.send(f"* {count} EXISTS")
                self.send("* 0 RECENT")
                self.send(f"* OK [UNSEEN {unseen}] unseen")
                self.send("* OK [UIDVALIDITY 1] UIDs valid")
                self.send(f"{tag} OK [READ-WRITE] SELECT completed")
            elif not selected:
                self.send(f"{tag} BAD select a mailbox first")
            elif verb == "SEARCH":
                criteria = rest.upper().split()
                with box.lock:
                    numbers = [
                        str(n)
                        for n, (_raw, flags) in enumerate(box.messages, start=1)
                        if "UNSEEN" not in criteria or "\\Seen" not in flags
                    ]
                self.send("* SEARCH" + "".join(f" {n}" for n in numbers))
                self.send(f"{tag} OK SEARCH completed")
            elif verb == "FETCH":
                number_text, item = rest.split(" ", 1)
                item = item.strip("()").upper()
                number = int(number_text)
                with box.lock:
                    if not 1 <= number <= len(box.messages):
                        self.send(f"{tag} BAD no such message")
                        continue
                    raw, flags = box.messages[number - 1]
                    if item == "RFC822":
                        flags.add("\\Seen")  # as a real server does; BODY.PEEK[] does not
                        name = "RFC822"
                    elif item == "BODY.PEEK[]":
                        name = "BODY[]"
                    else:
                        self.send(f"{tag} BAD unsupported fetch item {item}")
                        continue
                self.wfile.write(f"* {number} FETCH ({name} {{{len(raw)}}}\r\n".encode() + raw + b")\r\n")
                self.send(f"{tag} OK FETCH completed")
            elif verb == "STORE":
                number_text, action, flag_list = rest.split(" ", 2)
                number = int(number_text)
                new = set(flag_list.strip("()").split())
                with box.lock:
                    flags = box.flags(number)
                    if action.upper().startswith("+FLAGS"):
                        flags |= new
                    elif action.upper().startswith("-FLAGS"):
                        flags -= new
                    else:
                        flags.clear()
                        flags |= new
                    shown = " ".join(sorted(flags))
                if ".SILENT" not in action.upper():
                    self.send(f"* {number} FETCH (FLAGS ({shown}))")
                self.send(f"{tag} OK STORE completed")
            else:
                self.send(f"{tag} BAD unknown command {verb}")


def _split(text: str) -> list[str]:
    """IMAP atoms and quoted strings (LOGIN's two arguments)."""
    return [a or b for a, b in re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', text)]


class _ImapServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture(name="imap_server")
def imap_server_fixture():
    """A local IMAP server on a free port; yields its mailbox and the MUTUALIS_HELPDESK_IMAP_URL."""
    box = Mailbox(user="assistance", password="s3cret pass")
    server = _ImapServer(("127.0.0.1", 0), _ImapHandler)
    server.mailbox = box  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield box, f"imap://assistance:s3cret%20pass@127.0.0.1:{port}/INBOX"
    finally:
        server.shutdown()
        server.server_close()
