"""S²low (Libriciel): acts to the prefecture (@CTES) and PES files to the Treasury (Hélios), over its `api=1` API.

S²low authenticates by TLS client certificate (an RGS certificate of the authority or its agent),
sometimes with a login and password when the certificate is shared. Its actes API answers
`OK\\n<value>` or `KO\\n<message>` in ISO-8859-1 with HTTP 200, so a `KO` is read here and becomes an
UnrecoverableError carrying S²low's own message; its Hélios API answers small XML documents.

Idempotency: S²low refuses a second act with the same internal number for an authority. Before posting,
the act is looked up by number among the transactions not yet answered; if S²low still answers that
the number exists, the transaction holding it is found in the lists (`api/list_actes.php`) and its id
is returned — provided its subject and decision date are the act's, else another act holds the number
and that is an error to show.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Self

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from lxml import etree

from mutualis.flows.adapters.base import Setting, http, pem_files, register, required
from mutualis.flows.formats.actes import parse_anomalie_acte, parse_aracte, parse_classification
from mutualis.flows.formats.pes import parse_pes_acquit
from mutualis.flows.ports import ActToTransmit, Outcome, RemoteState, UnrecoverableError

SERVICE = "S²low"
# S²low's transaction statuses (actes_status): what each means for the engine.
PENDING_STATUSES = {1: "Posté", 2: "En attente de transmission", 3: "Transmis", 7: "Message de la préfecture"}
PENDING_STATUSES |= {8: "Message de la préfecture", 17: "En attente d'être postée", 18: "En attente d'être signée"}
PENDING_STATUSES |= {21: "Reçu, pas d'accusé de réception"}
# After the acknowledgement S²low may validate the act or hand it to its archive: still acknowledged.
ACKNOWLEDGED_STATUSES = {4: "Acquittement reçu", 5: "Validé", 11: "Envoyé au SAE", 12: "Envoyé au SAE"}
ACKNOWLEDGED_STATUSES |= {13: "Archivé par le SAE", 14: "Erreur lors de l'archivage", 19: "En attente d'envoi au SAE"}
ACKNOWLEDGED_STATUSES |= {20: "Erreur lors de l'envoi au SAE"}
# Where a transaction may sit, most likely first, when looking an act up by its number.
IN_FLIGHT = (1, 2, 3, 17, 18)
ALL_STATUSES = (*IN_FLIGHT, 4, -1, 6, 5, 7, 8, 21, 11, 12, 13, 14, 19, 20, 0)
LIST_PAGE = 100
DUPLICATE_MARK = "même numéro interne existe déjà"
DEFAULT_TYPOLOGY = {1: "99_DE", 2: "99_AR", 3: "99_AI", 4: "99_DC", 5: "99_BU", 6: "99_AU"}
ATTACHMENT_TYPOLOGY = "99_AU"
UNSAFE_NAME = re.compile(r"[^a-zA-Z0-9._ -]")


def decode(content: bytes) -> str:
    """S²low writes ISO-8859-1 (mb_convert_encoding) but a few pages answer UTF-8: try UTF-8 first."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("iso-8859-1")


def _xml(content: bytes, what: str) -> etree._Element:
    try:
        return etree.fromstring(content, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise UnrecoverableError(
            _("S²low a renvoyé %(what)s illisible.") % {"what": what}, detail=decode(content[:2000])
        ) from exc


class NumberTaken(UnrecoverableError):
    """Another act holds this number on S²low: posting would be refused, adopting it would be wrong."""


@dataclass(frozen=True)
class _Call:
    """What every request of one operation carries: the client certificate, the trusted authority, the login."""

    cert: tuple[str, str] | None
    verify: str | bool
    auth: tuple[str, str] | None


@register
class S2lowTransmission:
    """Implements ports.TransmissionPort against S²low."""

    kind = "s2low"
    port = "transmission"
    label = gettext_lazy("S²low (actes et Hélios)")
    settings = (
        Setting("url", gettext_lazy("Adresse du service"), help=gettext_lazy("https://s2low.exemple.fr")),
        Setting(
            "certificate",
            gettext_lazy("Certificat client (PEM)"),
            secret=True,
            help=gettext_lazy("Le certificat RGS de la collectivité ou de l'agent, au format PEM."),
        ),
        Setting(
            "private_key",
            gettext_lazy("Clé privée du certificat (PEM, non chiffrée)"),
            secret=True,
        ),
        Setting(
            "server_ca",
            gettext_lazy("Autorité du serveur (PEM)"),
            required=False,
            help=gettext_lazy("Vide : les autorités de confiance du système."),
        ),
        Setting("login", gettext_lazy("Identifiant"), required=False),
        Setting(
            "password",
            gettext_lazy("Mot de passe"),
            secret=True,
            required=False,
            help=gettext_lazy("Quand le certificat est partagé entre plusieurs comptes S²low."),
        ),
    )

    def __init__(
        self,
        *,
        url: str,
        certificate: str,
        private_key: str,
        server_ca: str = "",
        login: str = "",
        password: str = "",
        timeout: float = 30,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise UnrecoverableError(_("L'adresse de S²low doit commencer par https://."))
        self.url = url.rstrip("/")
        self.certificate = certificate
        self.private_key = private_key
        self.server_ca = server_ca
        self.login = login
        self.password = password
        self.timeout = timeout

    @classmethod
    def from_config(cls, config: Mapping[str, str], *, timeout: float = 30) -> Self:
        values = required(config, cls.settings)
        return cls(timeout=timeout, **values)

    # --- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _call(self) -> Iterator[_Call]:
        with pem_files(self.certificate, self.private_key, self.server_ca) as (cert, key, ca):
            yield _Call(
                cert=(cert, key) if cert and key else None,
                verify=ca or True,
                auth=(self.login, self.password) if self.login else None,
            )

    def _request(self, call: _Call, method: str, path: str, **kwargs: Any) -> bytes:
        # verify is passed on each call: a session's verify loses to REQUESTS_CA_BUNDLE in requests.
        response = http(
            method,
            self.url + path,
            service=SERVICE,
            timeout=self.timeout,
            cert=call.cert,
            verify=call.verify,
            auth=call.auth,
            allow_redirects=False,
            **kwargs,
        )
        if response.is_redirect:
            # S²low sends an unauthenticated caller to its login page.
            raise UnrecoverableError(
                _("S²low redirige vers %(location)s : le certificat ou l'identifiant n'est pas reconnu.")
                % {"location": response.headers.get("Location", "?")}
            )
        return response.content

    def _ok(self, content: bytes, *, doing: str) -> list[str]:
        """The lines after `OK` of an actes API answer; `KO` raises with S²low's message."""
        text = decode(content)
        lines = text.split("\n")
        head = lines[0].strip()
        if head == "OK":
            return lines[1:]
        if head == "KO":
            message = "\n".join(line.strip() for line in lines[1:]).strip() or _("(sans message)")
            raise UnrecoverableError(
                _("S²low a refusé %(doing)s : %(message)s") % {"doing": doing, "message": message}, detail=text
            )
        raise UnrecoverableError(
            _("Réponse inattendue de S²low pour %(doing)s.") % {"doing": doing}, detail=text[:2000]
        )

    # --- acts --------------------------------------------------------------------------------

    def submit_act(self, act: ActToTransmit, *, idempotency_key: str) -> str:
        """Post the act; if S²low already holds it (a run that did not record the answer), its id."""
        with self._call() as call:
            try:
                found = self._find_act(call, act, statuses=IN_FLIGHT)
            except NumberTaken:
                raise
            except UnrecoverableError:
                found = ""  # an S²low without the list API: its refusal of a duplicate number still guards
            if found:
                return found
            try:
                lines = self._ok(self._post_act(call, act), doing=_("l'acte %(number)s") % {"number": act.number})
            except UnrecoverableError as exc:
                if DUPLICATE_MARK not in exc.message:
                    raise
                found = self._find_act(call, act, statuses=ALL_STATUSES)
                if not found:
                    raise
                return found
        remote_id = lines[0].strip() if lines else ""
        if not remote_id.isdigit():
            raise UnrecoverableError(_("S²low n'a pas renvoyé de numéro de transaction."), detail="\n".join(lines))
        return remote_id

    def _post_act(self, call: _Call, act: ActToTransmit) -> bytes:
        data: dict[str, Any] = {
            "api": "1",
            "nature_code": str(act.nature),
            "number": act.number,
            "subject": act.subject,
            "decision_date": act.decision_date.isoformat(),
            "type_acte": act.main.typology or DEFAULT_TYPOLOGY.get(act.nature, ATTACHMENT_TYPOLOGY),
            "type_pj[]": [f.typology or ATTACHMENT_TYPOLOGY for f in act.attachments],
            "en_attente": "0",
            "document_papier": "0",
        }
        for level, code in enumerate(act.classification, start=1):
            data[f"classif{level}"] = code
        files = [("acte_pdf_file", (_safe_name(act.main.name), act.main.content, act.main.mime))]
        files += [("acte_attachments[]", (_safe_name(f.name), f.content, f.mime)) for f in act.attachments]
        return self._request(call, "POST", "/modules/actes/actes_transac_create.php", data=data, files=files)

    def _find_act(self, call: _Call, act: ActToTransmit, *, statuses: tuple[int, ...]) -> str:
        """The id of the act transaction holding `act.number` in those statuses, or ""; another act is an error."""
        for status in statuses:
            offset = 0
            while True:
                content = self._request(
                    call,
                    "GET",
                    "/modules/actes/api/list_actes.php",
                    params={"status_id": status, "offset": offset, "limit": LIST_PAGE},
                )
                rows = _transactions(content)
                for row in rows:
                    if str(row.get("number", "")) != act.number or str(row.get("type", "1")) != "1":
                        continue
                    same = str(row.get("subject", "")).strip() == act.subject.strip() and str(
                        row.get("date", "")
                    ).startswith(act.decision_date.isoformat())
                    if not same:
                        raise NumberTaken(
                            _(
                                "Le numéro %(number)s est déjà pris sur S²low par un autre acte "
                                "(transaction %(id)s : « %(subject)s »)."
                            )
                            % {"number": act.number, "id": row.get("id"), "subject": row.get("subject", "")}
                        )
                    return str(row["id"])
                if len(rows) < LIST_PAGE:
                    break
                offset += LIST_PAGE
        return ""

    def poll_act(self, remote_id: str) -> Outcome:
        with self._call() as call:
            content = self._request(
                call, "GET", "/modules/actes/actes_transac_get_status.php", params={"transaction": remote_id}
            )
            first, _sep, rest = content.partition(b"\n")
            if first.strip() != b"OK":
                self._ok(content, doing=_("la consultation de l'acte"))
            status_line, _sep, flux = rest.partition(b"\n")
            flux = flux.strip()
            try:
                status = int(status_line.strip())
            except ValueError:
                raise UnrecoverableError(_("Statut S²low illisible."), detail=decode(content[:500])) from None
            if status in PENDING_STATUSES:
                return Outcome(RemoteState.PENDING, PENDING_STATUSES[status], remote_status=str(status))
            if status in ACKNOWLEDGED_STATUSES:
                return self._acknowledged(call, remote_id, status, flux)
            if status == 6:
                return self._refused(flux)
            if status == 0:
                return Outcome(RemoteState.CANCELLED, _("Acte annulé sur S²low."), remote_status="0")
            if status == -1:
                raise UnrecoverableError(
                    _("La transaction est en erreur sur S²low : %(message)s")
                    % {"message": decode(flux).strip() or _("(sans message)")},
                    detail=decode(flux),
                )
            return Outcome(RemoteState.PENDING, _("Statut S²low %(status)s") % {"status": status}, str(status))

    def _acknowledged(self, call: _Call, remote_id: str, status: int, flux: bytes) -> Outcome:
        proofs: dict[str, bytes] = {}
        message = _("Acquitté par la préfecture.")
        if flux:
            ack = parse_aracte(flux)
            proofs["aracte.xml"] = flux
            message = _("Acquitté par la préfecture le %(date)s (%(id)s).") % {
                "date": ack.received_on.isoformat(),
                "id": ack.act_id,
            }
        stamped = self._stamped_pdf(call, remote_id)
        if stamped:
            proofs["acte-tamponne.pdf"] = stamped
        return Outcome(RemoteState.DONE, message, remote_status=str(status), proofs=proofs)

    def _stamped_pdf(self, call: _Call, remote_id: str) -> bytes:
        """The act's PDF with the prefecture's stamp: the first PDF of the transaction's files."""
        content = self._request(
            call, "GET", "/modules/actes/actes_transac_get_files_list.php", params={"transaction": remote_id}
        )
        if content.startswith(b"KO"):
            self._ok(content, doing=_("la liste des fichiers de l'acte"))
        try:
            files = json.loads(content)
        except ValueError as exc:
            raise UnrecoverableError(_("Liste des fichiers S²low illisible."), detail=decode(content[:500])) from exc
        pdf = next((f for f in files if isinstance(f, dict) and f.get("mimetype") == "application/pdf"), None)
        if pdf is None:
            return b""
        stamped = self._request(
            call, "GET", "/modules/actes/actes_download_file.php", params={"file": pdf["id"], "tampon": "true"}
        )
        if not stamped.startswith(b"%PDF"):
            self._ok(stamped, doing=_("l'acte tamponné"))
            raise UnrecoverableError(_("L'acte tamponné renvoyé par S²low n'est pas un PDF."))
        return stamped

    def _refused(self, flux: bytes) -> Outcome:
        proofs: dict[str, bytes] = {}
        if flux.lstrip().startswith(b"<"):
            reason = parse_anomalie_acte(flux).detail
            proofs["anomalie-acte.xml"] = flux
        else:
            reason = decode(flux).strip()
        message = _("Refusé par la préfecture : %(reason)s") % {"reason": reason or _("(sans motif)")}
        return Outcome(RemoteState.REJECTED, message, remote_status="6", proofs=proofs)

    def cancel_act(self, remote_id: str) -> None:
        """Ask the prefecture to cancel an acknowledged act (S²low sends an annulation, message 6-1)."""
        with self._call() as call:
            content = self._request(
                call, "POST", "/modules/actes/actes_transac_cancel.php", data={"api": "1", "id": remote_id}
            )
        self._ok(content, doing=_("l'annulation de la transaction %(id)s") % {"id": remote_id})

    # --- Hélios -----------------------------------------------------------------------------

    def submit_pes(self, name: str, content: bytes, *, idempotency_key: str) -> str:
        """Post a PES Aller; S²low refuses the same file twice ("doublon"), which is reported as such."""
        with self._call() as call:
            answer = self._request(
                call,
                "POST",
                "/modules/helios/api/helios_importer_fichier.php",
                files=[("enveloppe", (_safe_name(name), content, "application/xml"))],
            )
        root = _xml(answer, _("la réponse au dépôt du PES"))
        message = (root.findtext("message") or "").strip()
        if (root.findtext("resultat") or "").strip() != "OK":
            if "doublon" in message.lower():
                raise UnrecoverableError(
                    _(
                        "S²low a déjà reçu ce fichier PES (doublon) ; son numéro de transaction se lit sur S²low, "
                        "le fichier n'a pas été déposé une seconde fois."
                    ),
                    detail=message,
                )
            raise UnrecoverableError(_("S²low a refusé le fichier PES : %(message)s") % {"message": message})
        remote_id = (root.findtext("id") or "").strip()
        if not remote_id.isdigit():
            raise UnrecoverableError(_("S²low n'a pas renvoyé de numéro de transaction."), detail=decode(answer))
        return remote_id

    def poll_pes(self, remote_id: str) -> Outcome:
        with self._call() as call:
            answer = self._request(
                call, "GET", "/modules/helios/api/helios_transac_get_status.php", params={"transaction": remote_id}
            )
            root = _xml(answer, _("l'état du PES"))
            message = (root.findtext("message") or "").strip()
            if (root.findtext("resultat") or "").strip() != "OK":
                raise UnrecoverableError(_("S²low : %(message)s") % {"message": message or _("(sans message)")})
            status_text = (root.findtext("status") or "").strip()
            try:
                status = int(status_text)
            except ValueError:
                raise UnrecoverableError(_("Statut Hélios illisible : %(s)s") % {"s": status_text}) from None
            acquit = b""
            if status in (4, 6, 8):
                acquit = self._request(
                    call, "GET", "/modules/helios/helios_download_acquit.php", params={"id": remote_id}
                )
        if status in (1, 2, 3, 7):
            return Outcome(RemoteState.PENDING, message, remote_status=str(status))
        if status == 0:
            return Outcome(RemoteState.CANCELLED, message, remote_status="0")
        if status == -1:
            raise UnrecoverableError(_("Le PES est en erreur sur S²low : %(message)s") % {"message": message})
        if status not in (4, 6, 8):
            return Outcome(RemoteState.PENDING, message, remote_status=str(status))
        if acquit.startswith(b"KO"):
            self._ok(acquit, doing=_("l'acquittement du PES"))
        ack = parse_pes_acquit(acquit)
        proofs = {"pes-acquit.xml": acquit}
        if status == 6 or not ack.accepted:
            return Outcome(
                RemoteState.REJECTED,
                _("Refusé par la trésorerie : %(reason)s") % {"reason": ack.summary()},
                remote_status=str(status),
                proofs=proofs,
            )
        return Outcome(
            RemoteState.DONE,
            _("Acquitté par la trésorerie : %(summary)s.") % {"summary": ack.summary()},
            remote_status=str(status),
            proofs=proofs,
        )

    # --- classification and check -------------------------------------------------------------

    def classification(self) -> bytes:
        """The prefecture's RetourClassification as S²low last received it."""
        with self._call() as call:
            content = self._request(call, "GET", "/modules/actes/actes_classification_fetch.php", params={"api": "1"})
        if content.startswith(b"KO"):
            self._ok(content, doing=_("la classification"))
        parse_classification(content)  # a FormatError (unrecoverable) names what is wrong with it
        return content

    def check(self) -> str:
        """A harmless call: S²low's connection test, then the authority the certificate belongs to."""
        with self._call() as call:
            content = self._request(call, "GET", "/api/test-connexion.php")
            if decode(content).strip() != "OK":
                self._ok(content, doing=_("le test de connexion"))
            info = self._request(call, "GET", "/api/info-connexion.php")
        try:
            authority = json.loads(info).get("authority_info", {})
        except (ValueError, AttributeError):
            authority = {}
        name = str(authority.get("name") or "").strip()
        if name:
            return _("Connexion à S²low réussie : %(name)s.") % {"name": name}
        return _("Connexion à S²low réussie.")


def _transactions(content: bytes) -> list[dict[str, Any]]:
    try:
        value = json.loads(content)
    except ValueError as exc:
        raise UnrecoverableError(_("Liste des actes S²low illisible."), detail=decode(content[:500])) from exc
    if not isinstance(value, dict):
        raise UnrecoverableError(_("Liste des actes S²low inattendue."), detail=decode(content[:500]))
    rows = value.get("transactions") or []  # PHP's query gives false for no row on some versions
    if not isinstance(rows, list):
        raise UnrecoverableError(_("Liste des actes S²low inattendue."), detail=decode(content[:500]))
    return [row for row in rows if isinstance(row, dict)]


def _safe_name(name: str) -> str:
    """S²low keeps file names to letters, digits, dot, dash, underscore and space (as Pastell sends them)."""
    return UNSAFE_NAME.sub("_", name) or "document.pdf"
