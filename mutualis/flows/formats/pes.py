"""Hélios PES: the PES Aller a finance package produces is relayed as is, after a check; its PES_ACQUIT is read.

Mutualis does not build PES files (the finance software does, and signs its bordereaux): it checks
what the Treasury's gateway would refuse at once — a file that is not XML, another root than
PES_Aller, a missing or empty Enveloppe/Parametres/TypFic or NomFic, a missing EnTetePES/IdPost,
IdColl (a SIRET), CodCol or CodBud — with a French message that names the element, so the
accountant knows what to fix before anything is sent. The values sit in `V` attributes, children
carry no namespace, as in the DGFiP's PES V2 schemas.

The PES_ACQUIT (the Treasury's acknowledgement) lists ElementACQUIT entries: a domain (DomaineAck:
0–2 technical, 3 certificate, 4 supporting document, 5 expense, 6 revenue, 7 budget) and a state
(EtatAck 1 = accepted, anything else refused, with NumAnoAck/LibelleAnoAck). The file is accepted
when every element is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _
from lxml import etree

from mutualis.flows.formats.xml import FormatError, local_name, parse

ALLER_NS = "http://www.minefi.gouv.fr/cp/helios/pes_v2/Rev0/aller"
FILE_TYPES = ("PESALR1", "PESALR2")
SIRET_RE = re.compile(r"^[0-9]{14}$")
ID_POST_RE = re.compile(r"^[0-9]{6}$")
COD_COL_RE = re.compile(r"^[0-9A-Za-z]{1,3}$")
COD_BUD_RE = re.compile(r"^[0-9A-Za-z]{1,2}$")
NOM_FIC_MAX = 100
DOMAIN_LABELS = {
    "0": "technique",
    "1": "technique",
    "2": "technique",
    "3": "validité du certificat",
    "4": "pièce justificative",
    "5": "dépense",
    "6": "recette",
    "7": "budget",
}
_BLOCKS = ("PES_DepenseAller", "PES_RecetteAller", "PES_BudgetAller", "PES_PJ")


@dataclass(frozen=True)
class PesAller:
    """What the check read from a valid PES Aller, to show and to log."""

    file_type: str  # TypFic
    file_name: str  # NomFic
    id_post: str  # the Treasury's post
    id_coll: str  # SIRET of the authority
    cod_col: str
    cod_bud: str
    label: str  # LibelleColBud
    blocks: tuple[str, ...]  # PES_DepenseAller, PES_RecetteAller…
    bordereaux: int
    signed: bool  # at least one XML signature inside


def _child(parent: etree._Element, name: str) -> etree._Element | None:
    for child in parent:
        if isinstance(child.tag, str) and local_name(child) == name:
            return child
    return None


def _value(parent: etree._Element, path: tuple[str, ...], *, what: str) -> str:
    """The `V` attribute at `path` under `parent`, or FormatError naming the first missing element."""
    element = parent
    walked: list[str] = [local_name(parent)]
    for name in path:
        found = _child(element, name)
        walked.append(name)
        if found is None:
            raise FormatError(_("%(what)s : l'élément %(path)s est absent.") % {"what": what, "path": "/".join(walked)})
        element = found
    value = str(element.get("V", "")).strip()
    if not value:
        raise FormatError(
            _("%(what)s : l'élément %(path)s n'a pas de valeur (attribut V vide ou absent).")
            % {"what": what, "path": "/".join(walked)}
        )
    return value


def check_pes_aller(content: bytes) -> PesAller:
    """Check a PES Aller before it is sent; FormatError says in French what is wrong and where."""
    what = _("Le fichier PES")
    root = parse(content, what=what, huge=True)
    if local_name(root) != "PES_Aller":
        raise FormatError(
            _("%(what)s n'est pas un PES Aller : l'élément racine est « %(found)s », PES_Aller est attendu.")
            % {"what": what, "found": local_name(root)}
        )
    namespace = etree.QName(root).namespace
    if namespace and namespace != ALLER_NS:
        raise FormatError(
            _("%(what)s : l'espace de noms « %(found)s » n'est pas celui du PES Aller (%(expected)s).")
            % {"what": what, "found": namespace, "expected": ALLER_NS}
        )
    file_type = _value(root, ("Enveloppe", "Parametres", "TypFic"), what=what)
    if file_type not in FILE_TYPES:
        raise FormatError(
            _("%(what)s : TypFic vaut « %(found)s », un PES Aller attend %(expected)s.")
            % {"what": what, "found": file_type, "expected": _(" ou ").join(FILE_TYPES)}
        )
    file_name = _value(root, ("Enveloppe", "Parametres", "NomFic"), what=what)
    if len(file_name) > NOM_FIC_MAX:
        raise FormatError(
            _("%(what)s : NomFic fait %(length)s caractères, %(max)s au plus.")
            % {"what": what, "length": len(file_name), "max": NOM_FIC_MAX}
        )
    header = ("EnTetePES",)
    id_post = _value(root, (*header, "IdPost"), what=what)
    id_coll = _value(root, (*header, "IdColl"), what=what)
    cod_col = _value(root, (*header, "CodCol"), what=what)
    cod_bud = _value(root, (*header, "CodBud"), what=what)
    for value, pattern, message in (
        (id_post, ID_POST_RE, _("IdPost « %(value)s » doit compter six chiffres (le poste comptable).")),
        (id_coll, SIRET_RE, _("IdColl « %(value)s » doit être le SIRET de la collectivité (14 chiffres).")),
        (cod_col, COD_COL_RE, _("CodCol « %(value)s » doit compter de 1 à 3 caractères.")),
        (cod_bud, COD_BUD_RE, _("CodBud « %(value)s » doit compter 1 ou 2 caractères.")),
    ):
        if not pattern.fullmatch(value):
            raise FormatError(f"{what} : " + message % {"value": value})
    header_element = _child(root, "EnTetePES")
    assert header_element is not None  # read above
    label_element = _child(header_element, "LibelleColBud")
    blocks = tuple(local_name(child) for child in root if isinstance(child.tag, str) and local_name(child) in _BLOCKS)
    if not blocks:
        raise FormatError(
            _("%(what)s ne contient aucun bloc de données (%(blocks)s).") % {"what": what, "blocks": ", ".join(_BLOCKS)}
        )
    names = [local_name(element) for element in root.iter() if isinstance(element.tag, str)]
    bordereaux = names.count("Bordereau")
    signed = "Signature" in names
    return PesAller(
        file_type=file_type,
        file_name=file_name,
        id_post=id_post,
        id_coll=id_coll,
        cod_col=cod_col,
        cod_bud=cod_bud,
        label=str(label_element.get("V", "")) if label_element is not None else "",
        blocks=blocks,
        bordereaux=bordereaux,
        signed=signed,
    )


@dataclass(frozen=True)
class AckElement:
    """One ElementACQUIT: a domain, its state, and what it concerns (bordereau, piece) and why refused."""

    domain: str
    state: str
    bordereau: str = ""
    exercise: str = ""
    unique_id: str = ""
    error_code: str = ""
    error_label: str = ""

    @property
    def accepted(self) -> bool:
        return self.state == "1"

    @property
    def domain_label(self) -> str:
        return DOMAIN_LABELS.get(self.domain, self.domain)


@dataclass(frozen=True)
class PesAcknowledgement:
    """A PES_ACQUIT: the file it answers (NomFic) and its elements; accepted when all of them are."""

    file_name: str
    id_coll: str
    cod_col: str
    cod_bud: str
    elements: tuple[AckElement, ...]

    @property
    def accepted(self) -> bool:
        return bool(self.elements) and all(element.accepted for element in self.elements)

    def summary(self) -> str:
        """A French line for the log: « 5 éléments acquittés » or the refused ones with their reasons."""
        refused = [element for element in self.elements if not element.accepted]
        if not refused:
            return _("%(count)s élément(s) acquitté(s)") % {"count": len(self.elements)}
        parts = []
        for element in refused:
            reason = " ".join(part for part in (element.error_code, element.error_label) if part)
            parts.append(f"{element.domain_label} {element.bordereau or element.unique_id} : {reason}".strip())
        return _("%(count)s élément(s) refusé(s) : %(list)s") % {"count": len(refused), "list": " ; ".join(parts)}


def sample_pes_aller(*, siret: str, label: str, day: date, number: int = 1, amount: str = "1250.00") -> bytes:
    """A small, well-formed PES Aller (one expense bordereau of one piece) for a test platform or the
    local S²low: the check above accepts it. Never for a real Treasury: it pays nobody real."""
    root = etree.Element(etree.QName(ALLER_NS, "PES_Aller"), nsmap={"n": ALLER_NS})

    def add(parent: etree._Element, name: str, value: str | None = None, **attrs: str) -> etree._Element:
        element = etree.SubElement(parent, name, attrs)
        if value is not None:
            element.set("V", value)
        return element

    file_name = f"PESALR2_{siret[:9]}_{day.isoformat().replace('-', '')}_{number:04d}"
    parameters = add(add(root, "Enveloppe"), "Parametres")
    add(parameters, "Version", "2")
    add(parameters, "TypFic", "PESALR2")
    add(parameters, "NomFic", file_name)
    header = add(root, "EnTetePES")
    add(header, "DteStr", day.isoformat())
    add(header, "IdPost", "069001")
    add(header, "IdColl", siret)
    add(header, "CodCol", "001")
    add(header, "CodBud", "01")
    add(header, "LibelleColBud", f"{label} - BUDGET PRINCIPAL"[:100])
    expenses = add(root, "PES_DepenseAller")
    head = add(expenses, "EnTeteDepense")
    add(head, "IdVer", "2")
    add(head, "InfoDematerialisee", "0")
    bordereau = add(expenses, "Bordereau", Id=f"BORD_{day.year}_{number:04d}")
    block = add(bordereau, "BlocBordereau")
    add(block, "Exer", str(day.year))
    add(block, "IdBord", str(number))
    add(block, "DteBordEm", day.isoformat())
    add(block, "TypBord", "01")
    add(block, "NbrPce", "1")
    add(block, "MtBordHT", amount)
    piece = add(add(bordereau, "Piece"), "BlocPiece")
    add(piece, "IdPce", "1")
    add(piece, "TypPce", "01")
    add(piece, "ObjPce", "Maintenance des logiciels mutualisés")
    return bytes(etree.tostring(root, xml_declaration=True, encoding="ISO-8859-1", pretty_print=True))


def _attr_value(parent: etree._Element, name: str) -> str:
    child = _child(parent, name)
    return str(child.get("V", "")).strip() if child is not None else ""


def parse_pes_acquit(content: bytes) -> PesAcknowledgement:
    """Read a PES_ACQUIT; FormatError when it is not one or has no ACQUIT block."""
    what = _("L'acquittement PES")
    root = parse(content, what=what, huge=True)
    if local_name(root) != "PES_ACQUIT":
        raise FormatError(
            _("%(what)s n'est pas un PES_ACQUIT : l'élément racine est « %(found)s ».")
            % {"what": what, "found": local_name(root)}
        )
    file_name = _value(root, ("Enveloppe", "Parametres", "NomFic"), what=what)
    header = _child(root, "EnTetePES")
    acquit = _child(root, "ACQUIT")
    if acquit is None:
        raise FormatError(_("%(what)s : l'élément PES_ACQUIT/ACQUIT est absent.") % {"what": what})
    elements = []
    for element in acquit:
        if not isinstance(element.tag, str) or local_name(element) != "ElementACQUIT":
            continue
        error = _child(element, "Erreur")
        elements.append(
            AckElement(
                domain=_value(element, ("DomaineAck",), what=what),
                state=_value(element, ("EtatAck",), what=what),
                bordereau=_attr_value(element, "NumBord"),
                exercise=_attr_value(element, "ExerciceBord"),
                unique_id=_attr_value(element, "IdUnique"),
                error_code=_attr_value(error, "NumAnoAck") if error is not None else "",
                error_label=_attr_value(error, "LibelleAnoAck") if error is not None else "",
            )
        )
    if not elements:
        raise FormatError(_("%(what)s ne contient aucun ElementACQUIT.") % {"what": what})
    return PesAcknowledgement(
        file_name=file_name,
        id_coll=_attr_value(header, "IdColl") if header is not None else "",
        cod_col=_attr_value(header, "CodCol") if header is not None else "",
        cod_bud=_attr_value(header, "CodBud") if header is not None else "",
        elements=tuple(elements),
    )
