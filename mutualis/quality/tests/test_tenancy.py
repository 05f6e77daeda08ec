"""Who sees which quality page: every role × every route × its own member (Alpha) or another's
(Bravo). Operator staff see all; a member's manager and elected officials see their own member;
agents see none (404); the operator's dashboard sends a member to its own page (302)."""

import pytest
from django.core.files.base import ContentFile
from django.urls import URLResolver, get_resolver

from mutualis.quality.models import MonthlyReport

ROLES = ["operator_admin", "operator_staff", "member_manager", "member_agent", "elected"]
#                                                              ─── own ───────────   ─── foreign ─────────
# route                                                        adm stf mgr agt elu   adm stf mgr agt elu
TABLE = """
/qualite/                                                      200 200 302 404 302     ·   ·   ·   ·   ·
/qualite/temps-passe/                                          200 200 200 404 200     ·   ·   ·   ·   ·
/qualite/temps-passe/?format=csv                               200 200 200 404 200     ·   ·   ·   ·   ·
/qualite/engagements/                                          200 200 200 404 200     ·   ·   ·   ·   ·
/qualite/adherents/{org}/                                      200 200 200 404 200   200 200 404 404 404
/qualite/adherents/{org}/rapports/                             200 200 200 404 200   200 200 404 404 404
/qualite/adherents/{org}/rapports/2026-11/v1.pdf               200 200 200 404 200   200 200 404 404 404
/qualite/adherents/{org}/rapports/2026-11/v1.html              200 200 200 404 200   200 200 404 404 404
/qualite/adherents/{org}/rapports/produire/                    405 405 405 405 405   405 405 405 405 405
/qualite/editeurs/                                             200 200 404 404 404     ·   ·   ·   ·   ·
/qualite/connaissances/                                        200 200 200 404 200     ·   ·   ·   ·   ·
/qualite/graphiques/volume_chart/0000.svg                      404 404 404 404 404     ·   ·   ·   ·   ·
"""
ROWS = []
for line in TABLE.strip().splitlines():
    path, *cells = line.split()
    ROWS.append((path, dict(zip(ROLES, cells[:5], strict=True)), dict(zip(ROLES, cells[5:], strict=True))))


@pytest.fixture
def reports(world):
    """One archived report per member (the PDF's content does not matter here; building real ones
    is tested in test_reports.py and takes seconds each)."""
    for member in (world.member_a, world.member_b):
        report = MonthlyReport(collectivity=member, month="2026-11", version=1, html="<p>rapport</p>", sha256="0" * 64)
        report.pdf.save("rapport.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
        report.save()


CASES = [
    (path, role, side, expected[role])
    for path, own, foreign in ROWS
    for side, expected in (("own", own), ("foreign", foreign))
    for role in ROLES
    if expected[role] != "·"
]


@pytest.mark.parametrize(("path", "role", "side", "expected"), CASES)
def test_it_answers_each_role_as_the_table_says(client, world, reports, path, role, side, expected):
    member = world.member_a if side == "own" else world.member_b
    client.force_login(world.by_role()[role])
    response = client.get(path.format(org=member.slug))
    assert response.status_code == int(expected), (path, role, side)


def test_it_has_a_line_for_every_quality_route():
    quality = next(p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == "quality")
    tabled = {path.split("?")[0] for path, _own, _foreign in ROWS}
    routes = {"/qualite/" + str(p.pattern) for p in quality.url_patterns}
    normalised = {
        r.replace("<slug:slug>", "{org}")
        .replace("<str:month>", "2026-11")
        .replace("v<int:version>", "v1")
        .replace("<str:name>", "volume_chart")
        .replace("<str:token>", "0000")
        for r in routes
    }
    assert normalised <= tabled, normalised - tabled
