"""What every format module shares: the error it raises, a safe XML parser, the official schemas.

Files come from outside (a prefecture's acknowledgement, a finance package's PES, an archive's reply):
they are parsed without network access, DTD loading or entity expansion. Schemas are loaded once per
process from the XSDs copied beside this module (`schemas/`), so validation never fetches anything.
"""

from __future__ import annotations

import functools
from pathlib import Path

from django.utils.translation import gettext as _
from lxml import etree

from mutualis.flows.ports import UnrecoverableError

SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"
_SCHEMA_FILES = {
    "actes": SCHEMAS_DIR / "actes" / "actesv1_1.xsd",
    "seda-2.1": SCHEMAS_DIR / "seda-2.1" / "seda-2.1-main.xsd",
}
_MAX_ERRORS_IN_DETAIL = 10


class FormatError(UnrecoverableError):
    """A document or an answer does not follow its format: `message` says what, in French.

    An `UnrecoverableError`: building the same act again, or reading the same answer again, gives
    the same result, so the engine stops the document with this message instead of retrying.
    """


def parser(*, huge: bool = False) -> etree.XMLParser:
    """A parser that never reaches the network, loads no DTD and expands no entity."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=huge
    )


def parse(content: bytes, *, what: str, huge: bool = False) -> etree._Element:
    """Parse `content` (bytes, any declared encoding) or raise FormatError naming `what` and the line."""
    if not content or not content.strip():
        raise FormatError(_("%(what)s est vide.") % {"what": what})
    try:
        return etree.fromstring(content, parser(huge=huge))
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or 0
        raise FormatError(
            _("%(what)s n'est pas un XML bien formé (ligne %(line)s) : %(error)s")
            % {"what": what, "line": line, "error": exc.msg},
            detail=str(exc),
        ) from exc


@functools.cache
def schema(name: str) -> etree.XMLSchema:
    """The official schema `name` ("actes" or "seda-2.1"), compiled once."""
    doc = etree.parse(str(_SCHEMA_FILES[name]), parser())
    return etree.XMLSchema(doc)


def schema_errors(root: etree._Element, name: str) -> list[str]:
    """The XSD's complaints about `root` (empty when it validates), as `line N: message`."""
    xsd = schema(name)
    if xsd.validate(root):
        return []
    return [f"ligne {error.line} : {error.message}" for error in xsd.error_log]


def validate(root: etree._Element, name: str, *, what: str) -> None:
    """Raise FormatError if `root` does not validate against the official schema `name`."""
    errors = schema_errors(root, name)
    if errors:
        raise FormatError(
            _("%(what)s ne respecte pas le schéma officiel (%(schema)s) : %(error)s")
            % {"what": what, "schema": name, "error": errors[0]},
            detail="\n".join(errors[:_MAX_ERRORS_IN_DETAIL]),
        )


def local_name(element: etree._Element) -> str:
    """The tag without its namespace: `{ns}ARActe` → `ARActe`."""
    return etree.QName(element).localname


def serialize(root: etree._Element, *, encoding: str = "UTF-8") -> bytes:
    """The document with its XML declaration, in `encoding` (characters outside it become references)."""
    return etree.tostring(root, xml_declaration=True, encoding=encoding, pretty_print=True)
