"""Loading the reference operator's public data set (and the demo accounts), idempotently.

The file is checked whole before anything is written; an error names the file, the entry and
the field. Loading runs in one transaction, so a failure leaves the database as it was.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from mutualis.accounts.models import Role, User
from mutualis.catalog.cache import applications_changed
from mutualis.catalog.models import (
    Application,
    Domain,
    Licence,
    ServiceCommitment,
    SourceConfidence,
    Subscription,
    SubscriptionStatus,
    Vendor,
)
from mutualis.core.audit import audit_record
from mutualis.core.models import AuditAction
from mutualis.demo import finance as finance_demo
from mutualis.demo import helpdesk as helpdesk_demo
from mutualis.demo import identity as identity_demo
from mutualis.demo import knowledge as knowledge_demo
from mutualis.demo import notices as notices_demo
from mutualis.demo import ola as ola_demo
from mutualis.demo import procurement as procurement_demo
from mutualis.demo import questionnaires as questionnaires_demo
from mutualis.demo import sittings as sittings_demo
from mutualis.demo.errors import DemoFileError
from mutualis.demo.flows import load_flows_demo
from mutualis.governance.models import Body, BodyKind, Mandate, MandateRole, Person
from mutualis.members.cache import operator_changed
from mutualis.members.models import (
    Contact,
    ContactRole,
    OperatorService,
    Organisation,
    OrganisationKind,
    StaffFigures,
)

DEMO_DIR = Path(__file__).resolve().parent / "fixtures"
DEFAULT_FILE = DEMO_DIR / "sitiv-2022.json"
SUPPLEMENT_FILE = DEMO_DIR / "supplement.json"
DEMO_PASSWORD = "Mutualis-demo-2026"
CONFIDENCE = {c.value for c in SourceConfidence}


@dataclass
class _Checker:
    path: Path
    errors: list[str] = field(default_factory=list)

    def need(self, obj: Any, where: str, key: str, kind: type | tuple[type, ...]) -> Any:
        if not isinstance(obj, dict):
            self.errors.append(f"{self.path}: entry {where}: expected an object")
            return None
        if key not in obj:
            self.errors.append(f"{self.path}: entry {where}: field '{key}' is missing")
            return None
        value = obj[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
            names = kind.__name__ if isinstance(kind, type) else "/".join(k.__name__ for k in kind)
            self.errors.append(
                f"{self.path}: entry {where}: field '{key}' should be {names}, got {type(value).__name__}"
            )
            return None
        return value

    def maybe(self, obj: Any, where: str, key: str, kind: type) -> Any:
        """An optional field: absent gives an empty `kind`, present must be of that type."""
        if not isinstance(obj, dict) or key not in obj:
            return kind()
        return self.need(obj, where, key, kind) or kind()

    def fail(self, where: str, key: str, message: str) -> None:
        self.errors.append(f"{self.path}: entry {where}: field '{key}' {message}")


# The note earlier loaders wrote on every subscription (see `Loader.load_catalog`).
SUBSCRIPTION_SOURCE_NOTE = "Rapport d'activité 2022 de l'opérateur, tableau des déploiements par ville."


def validate(data: Any, path: Path) -> None:
    """Check the parts of the data set the loader reads; raise DemoFileError listing every problem."""
    check = _Checker(path)
    if not isinstance(data, dict):
        raise DemoFileError(f"{path}: the document should be a JSON object")
    sitiv = check.need(data, "/", "sitiv", dict)
    if sitiv is not None:
        check.need(sitiv, "/sitiv", "acronym", str)
        check.need(sitiv, "/sitiv", "name_fr", str)
    member_ids: set[str] = set()
    for i, city in enumerate(check.need(data, "/", "member_cities", list) or []):
        where = f"/member_cities/{i}"
        slug = check.need(city, where, "id", str)
        check.need(city, where, "name", str)
        if slug is not None:
            if slugify(slug) != slug:
                check.fail(where, "id", f"is not a slug: {slug!r}")
            member_ids.add(slug)
        for j, person in enumerate(check.maybe(city, where, "steering_committee", list)):
            check.need(person, f"{where}/steering_committee/{j}", "name", str)
        for k, fact in enumerate(check.maybe(city, where, "figures_and_facts", list)):
            if not isinstance(fact, str):
                check.fail(f"{where}/figures_and_facts/{k}", "figures_and_facts", "should be str")
    for i, service in enumerate(check.need(data, "/", "services", list) or []):
        check.need(service, f"/services/{i}", "id", str)
        check.need(service, f"/services/{i}", "name", str)
    for i, commitment in enumerate(check.need(data, "/", "service_commitments", list) or []):
        check.need(commitment, f"/service_commitments/{i}", "id", str)
        check.need(commitment, f"/service_commitments/{i}", "name_fr", str)
    table = check.need(data, "/", "deployment_table", dict)
    groups = check.need(table, "/deployment_table", "groups", list) if table is not None else None
    for i, group in enumerate(groups or []):
        where = f"/deployment_table/groups/{i}"
        check.need(group, where, "group", str)
        for j, row in enumerate(check.need(group, where, "rows", list) or []):
            rwhere = f"{where}/rows/{j}"
            check.need(row, rwhere, "label_fr", str)
            count = check.need(row, rwhere, "oui_count", int)
            if count is not None and count < 0:
                check.fail(rwhere, "oui_count", "must not be negative")
            confidence = check.need(row, rwhere, "confidence", str)
            if confidence is not None and confidence not in CONFIDENCE:
                check.fail(rwhere, "confidence", f"should be one of {sorted(CONFIDENCE)}, got {confidence!r}")
            for k, city_id in enumerate(check.need(row, rwhere, "cities", list) or []):
                if not isinstance(city_id, str) or city_id not in member_ids:
                    check.fail(f"{rwhere}/cities/{k}", "cities", f"names an unknown member {city_id!r}")
    governance = check.need(data, "/", "governance", dict)
    if governance is not None:
        president = check.need(governance, "/governance", "president", dict)
        if president is not None:
            check.need(president, "/governance/president", "name", str)
        for i, vp in enumerate(check.need(governance, "/governance", "vice_presidents", list) or []):
            check.need(vp, f"/governance/vice_presidents/{i}", "name", str)
            city = check.need(vp, f"/governance/vice_presidents/{i}", "city", str)
            if city is not None and city not in member_ids:
                check.fail(f"/governance/vice_presidents/{i}", "city", f"names an unknown member {city!r}")
    if check.errors:
        raise DemoFileError("\n".join(check.errors))


def read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DemoFileError(f"{path}: file not found") from None
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise DemoFileError(f"{path}: not valid JSON ({where}: {error.msg})") from None
    validate(data, path)
    return data


@dataclass
class _Loader:
    data: dict[str, Any]
    supplement: dict[str, Any]
    people: dict[str, Person] = field(default_factory=dict)
    orgs: dict[str, Organisation] = field(default_factory=dict)

    def run(self) -> None:
        self.load_organisations()
        self.load_catalog()
        self.load_governance()
        self.load_procurement()
        self.load_finance()
        self.load_accounts()
        self.load_identity()
        self.load_helpdesk()
        self.load_questionnaires()
        self.load_notices()
        self.load_ola()
        self.load_knowledge()
        self.load_sittings()

    # -- members -------------------------------------------------------------------------
    def load_organisations(self) -> None:
        sitiv = self.data["sitiv"]
        operator, _ = Organisation.objects.update_or_create(
            slug=slugify(sitiv["acronym"]),
            defaults={
                "name": sitiv["name_fr"],
                "short_name": sitiv["acronym"],
                "kind": OrganisationKind.OPERATOR,
                "website": _url(sitiv.get("website", "")),
                "notes": sitiv.get("type", ""),
            },
        )
        self.orgs["SITIV"] = self.orgs[operator.slug] = operator
        staff = self.data.get("staff", {})
        StaffFigures.objects.update_or_create(
            organisation=operator,
            year=int(self.data.get("meta", {}).get("report_year", 2022)),
            defaults={
                "permanent_posts": staff.get("permanent_posts"),
                "filled_posts": staff.get("filled_posts_approx"),
                "fte": Decimal(str(staff["fte_approx"])) if staff.get("fte_approx") is not None else None,
                "note": "",  # the data set's note is a curator's remark (in English): kept there, never shown
            },
        )
        french_services = self.supplement.get("services", {})
        for service in self.data["services"]:
            # The data set summarises each service in English: the page shows the French wording of
            # the supplement, or nothing, never the summary itself.
            french = french_services.get(service["id"], {})
            headcount = service.get("headcount")
            detail = ""
            if isinstance(headcount, dict):
                labels = french.get("headcount", {})
                detail = ", ".join(f"{labels[k]} : {v}" for k, v in headcount.items() if k in labels)
                headcount = sum(v for v in headcount.values() if isinstance(v, int))
            OperatorService.objects.update_or_create(
                slug=service["id"],
                defaults={
                    "organisation": operator,
                    "name": service["name"],
                    "scope": french.get("scope", ""),
                    "headcount": headcount,
                    "headcount_detail": detail,
                },
            )
        insee = self.supplement.get("insee_codes", {})
        figures = self.supplement.get("members", {})
        for city in self.data["member_cities"]:
            facts = figures.get(city["id"], {})
            org, _ = Organisation.objects.update_or_create(
                slug=city["id"],
                defaults={
                    "name": city["name"],
                    "short_name": city.get("table_column_label", ""),
                    "kind": OrganisationKind.COMMUNE,
                    "insee_code": insee.get(city["id"], ""),
                    "siren": facts.get("siren", ""),
                    "population": facts.get("population"),
                    "population_year": facts.get("population_year"),
                    # `figures_and_facts` are the curator's reading notes (in English, with remarks on
                    # the source's reliability): they stay in the data set and never reach a page.
                    "notes": "",
                },
            )
            self.orgs[org.slug] = org
            for person in city.get("steering_committee", []):
                title = person.get("role", "")
                role = {"D.G.S.": ContactRole.DGS, "D.G.A.": ContactRole.DGA}.get(title, ContactRole.OTHER)
                Contact.objects.update_or_create(
                    organisation=org, full_name=person["name"], function=title, defaults={"role": role}
                )
        for partner in self.data.get("sitiv", {}).get("entente_tno", {}).get("partners", []):
            if partner == sitiv["acronym"]:
                continue
            org, _ = Organisation.objects.update_or_create(
                slug=slugify(partner), defaults={"name": partner, "kind": OrganisationKind.PARTNER}
            )
            self.orgs[partner] = org

    # -- catalogue ------------------------------------------------------------------------
    def load_catalog(self) -> None:
        for position, commitment in enumerate(self.data["service_commitments"]):
            ServiceCommitment.objects.update_or_create(
                slug=commitment["id"],
                defaults={
                    "name": commitment["name_fr"],
                    "description": commitment.get("description_fr", ""),
                    "position": position,
                },
            )
        groups_support = self.supplement.get("support_groups", {})
        services = {s.slug: s for s in OperatorService.objects.all()}
        app_facts = self.supplement.get("applications", {})
        # Where a subscription comes from is a remark on the source file, not a note for its readers:
        # a database loaded before this rule loses it on reload; a note someone wrote stays.
        Subscription.objects.filter(note=SUBSCRIPTION_SOURCE_NOTE).update(note="")
        for d_position, group in enumerate(self.data["deployment_table"]["groups"]):
            domain, _ = Domain.objects.update_or_create(
                slug=slugify(group["group"]), defaults={"name": group["group"], "position": d_position}
            )
            support = services.get(groups_support.get(group["group"], groups_support.get("default", "")))
            for a_position, row in enumerate(group["rows"]):
                facts = app_facts.get(row["label_fr"], {})
                vendor = None
                if facts.get("vendor"):
                    vendor, _ = Vendor.objects.get_or_create(
                        slug=slugify(facts["vendor"]), defaults={"name": facts["vendor"]}
                    )
                confidence = row["confidence"]
                app, _ = Application.objects.update_or_create(
                    slug=slugify(row["label_fr"])[:80],
                    defaults={
                        "name": row["label_fr"],
                        "domain": domain,
                        # Where the data set's software cell carries a curator's remark, the
                        # supplement gives the plain French name.
                        "software": facts.get("software", row.get("software") or ""),
                        "vendor": vendor,
                        "licence": facts.get("licence", Licence.UNKNOWN),
                        "support_group": support,
                        "position": a_position,
                        "source_confidence": confidence,
                        "source_reported_count": row["oui_count"],
                        # The confidence is shown as a French label; the curator's evidence (English
                        # quotes and reasoning) stays in the data set.
                        "source_note": "",
                    },
                )
                for city_id in row["cities"]:
                    Subscription.objects.get_or_create(
                        collectivity=self.orgs[city_id],
                        application=app,
                        defaults={"status": SubscriptionStatus.PRODUCTION},
                    )

    # -- governance -----------------------------------------------------------------------
    def person(self, name: str) -> Person:
        if name not in self.people:
            self.people[name], _ = Person.objects.get_or_create(slug=slugify(name), defaults={"full_name": name})
        return self.people[name]

    def seat(self, body: Body, name: str, role: str, org: Organisation | None, **extra: Any) -> None:
        Mandate.objects.update_or_create(
            person=self.person(name), body=body, role=role, start_on=None, defaults={"organisation": org, **extra}
        )

    def load_governance(self) -> None:
        gov = self.data["governance"]
        committee_info = gov.get("comite_syndical", {})
        bodies = {}
        specs = [
            ("comite-syndical", "Comité syndical", BodyKind.COMMITTEE, committee_info.get("role", "")),
            (
                "bureau-syndical",
                "Bureau syndical",
                BodyKind.BUREAU,
                gov.get("bureau_syndical", {}).get("composition", ""),
            ),
            ("cao", "Commission d'appel d'offres (CAO)", BodyKind.TENDER, gov.get("cao", {}).get("role", "")),
        ]
        specs += [(slugify(c["name"]), c["name"], BodyKind.COMMISSION, "") for c in gov.get("commissions", [])]
        conference = gov.get("conference_intercommunale_tno", {})
        steering = gov.get("steering_committees", {})
        specs += [
            (
                "conference-intercommunale-tno",
                "Conférence intercommunale TNO",
                BodyKind.CONFERENCE,
                conference.get("purpose", ""),
            ),
            ("copil-dsi", "Comité de pilotage des DSI", BodyKind.STEERING_TECHNICAL, steering.get("technical", "")),
            (
                "copil-dg",
                "Comité de pilotage des directions générales",
                BodyKind.STEERING_STRATEGIC,
                steering.get("strategic", ""),
            ),
        ]
        for position, (slug, name, kind, description) in enumerate(specs):
            extra = {}
            if kind == BodyKind.COMMITTEE:
                extra = {
                    "titular_seats_per_member": committee_info.get("titular_members_per_member_city"),
                    "substitute_seats_per_member": committee_info.get("substitute_delegates_per_member_city"),
                }
            bodies[slug], _ = Body.objects.update_or_create(
                slug=slug,
                defaults={"name": name, "kind": kind, "description": description, "position": position, **extra},
            )
        commissions = {c["led_by"]: bodies[slugify(c["name"])] for c in gov.get("commissions", []) if "led_by" in c}
        president = gov["president"]
        for slug in ("comite-syndical", "bureau-syndical"):
            self.seat(bodies[slug], president["name"], MandateRole.PRESIDENT, self.orgs.get(president.get("city", "")))
            for vp in gov.get("vice_presidents", []):
                self.seat(
                    bodies[slug],
                    vp["name"],
                    MandateRole.VICE_PRESIDENT,
                    self.orgs[vp["city"]],
                    commission_led=commissions.get(vp["name"]) if slug == "bureau-syndical" else None,
                )
            for member in gov.get("bureau_members", []):
                role = MandateRole.MEMBER if slug == "bureau-syndical" else MandateRole.TITULAR
                self.seat(bodies[slug], member["name"], role, self.orgs.get(member.get("city", "")))
        for member in gov.get("cao", {}).get("titular_members", []):
            role = MandateRole.PRESIDENT if member["name"] == president["name"] else MandateRole.TITULAR
            self.seat(bodies["cao"], member["name"], role, self.orgs.get(member.get("city", "")))
        chair = conference.get("chair")
        for entity, names in conference.get("titulaires", {}).items():
            for name in names:
                role = MandateRole.PRESIDENT if name == chair else MandateRole.TITULAR
                self.seat(bodies["conference-intercommunale-tno"], name, role, self.orgs.get(entity))
        for entity, names in conference.get("suppleants", {}).items():
            for name in names:
                self.seat(bodies["conference-intercommunale-tno"], name, MandateRole.SUBSTITUTE, self.orgs.get(entity))
        for participant in steering.get("participants_directions_generales", []):
            self.seat(
                bodies["copil-dg"],
                participant["name"],
                MandateRole.MEMBER,
                self.orgs.get(participant.get("city", "")),
                title=participant.get("role", ""),
            )
        for participant in steering.get("participants_sitiv", []):
            self.seat(
                bodies["copil-dg"],
                participant["name"],
                MandateRole.MEMBER,
                self.orgs["SITIV"],
                title=participant.get("role", ""),
            )

    # -- procurement ----------------------------------------------------------------------
    def load_procurement(self) -> None:
        procurement_demo.load_procurement(self.data)

    def load_finance(self) -> None:
        finance_demo.load_finance(self.data)

    # -- identity -------------------------------------------------------------------------
    def load_identity(self) -> None:
        identity_demo.load_identity(self.orgs)

    # -- helpdesk -------------------------------------------------------------------------
    def load_helpdesk(self) -> None:
        helpdesk_demo.load_helpdesk(self.data)

    # -- questionnaires (the request forms; after the helpdesk's categories) ---------------
    def load_questionnaires(self) -> None:
        questionnaires_demo.load_questionnaires(self.data)

    # -- notices (after the accounts and the helpdesk: they link demo tickets) -------------
    def load_notices(self) -> None:
        notices_demo.load_notices()

    def load_ola(self) -> None:
        ola_demo.load_ola()  # the maintenance contracts' commitments

    def load_knowledge(self) -> None:
        knowledge_demo.load_knowledge()  # after the catalogue, the categories and the accounts

    def load_sittings(self) -> None:
        sittings_demo.load_sittings()  # after the accounts: the services need an operator staff actor

    # -- demo accounts --------------------------------------------------------------------
    def load_accounts(self) -> None:
        services = {s.slug: s for s in OperatorService.objects.all()}
        for account in demo_accounts(self.data):
            org = self.orgs[account.organisation]
            user, created = User.objects.update_or_create(
                username=account.username,
                defaults={
                    "first_name": account.first_name,
                    "last_name": account.last_name or org.label,
                    "role": account.role,
                    "organisation": org,
                    "service": services.get(account.service) if account.service else None,
                    "email": f"{account.username}@demo.mutualis.test",
                    "is_staff": account.role == Role.OPERATOR_ADMIN,
                    "is_active": True,
                },
            )
            if created or not user.has_usable_password():
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])


@dataclass(frozen=True)
class DemoAccount:
    username: str
    first_name: str
    last_name: str
    role: Role
    organisation: str  # the key of the organisation in the data set ("SITIV" or a member's id)
    service: str = ""


def demo_accounts(data: dict[str, Any]) -> list[DemoAccount]:
    """The demo's accounts, derived from the data set: one list both creates them and prints them."""
    accounts = [
        DemoAccount("admin", "Administratrice", "Mutualis", Role.OPERATOR_ADMIN, "SITIV", "pole-ressources"),
        DemoAccount("support", "Agent", "Support", Role.OPERATOR_STAFF, "SITIV", "relations-adherents"),
    ]
    member_ids = [city["id"] for city in data["member_cities"]]
    accounts += [DemoAccount(f"dsi-{slug}", "DSI", "", Role.MEMBER_MANAGER, slug) for slug in member_ids]
    if "venissieux" in member_ids:
        accounts.append(DemoAccount("elu-venissieux", "Élu", "Vénissieux", Role.ELECTED, "venissieux"))
    return accounts


def demo_accounts_text(data: dict[str, Any] | None = None) -> str:
    """Every demo account with its role and organisation, as `load_demo` and `make run` print them."""
    data = data if data is not None else read(DEFAULT_FILE)
    names = {"SITIV": data["sitiv"]["acronym"]} | {city["id"]: city["name"] for city in data["member_cities"]}
    accounts = demo_accounts(data)
    width = max(len(account.username) for account in accounts)
    lines = [f"Comptes de démonstration (mot de passe {DEMO_PASSWORD}) :"]
    lines += [
        f"  {account.username:<{width}}  {account.role.label}, {names[account.organisation]}" for account in accounts
    ]
    return "\n".join(lines)


def _url(value: str) -> str:
    if value and not value.startswith(("http://", "https://")):
        return f"https://{value}"
    return value


def load_demo(*, path: Path = DEFAULT_FILE, actor: User | None = None) -> dict[str, int]:
    """Load the data set; running it again changes nothing. Returns the row counts after loading."""
    data = read(path)
    supplement = json.loads(SUPPLEMENT_FILE.read_text(encoding="utf-8"))
    with transaction.atomic():
        _Loader(data=data, supplement=supplement).run()
        load_flows_demo()  # connectors pointing to `mutualis flows_localservers`
        # The loader writes applications and the operator around the services: it drops their
        # cached values itself (core.reference_data).
        applications_changed()
        operator_changed()
        counts = demo_counts()
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            object_repr=f"données de démonstration ({path.name})",
            changes={name: [None, value] for name, value in counts.items()},
            via="cli",
        )
    return counts


def demo_counts() -> dict[str, int]:
    return {
        "organisations": Organisation.objects.count(),
        "members": Organisation.objects.members().count(),
        "operator_services": OperatorService.objects.count(),
        "contacts": Contact.objects.count(),
        "bodies": Body.objects.count(),
        "mandates": Mandate.objects.count(),
        "service_commitments": ServiceCommitment.objects.count(),
        "domains": Domain.objects.count(),
        "applications": Application.objects.count(),
        "vendors": Vendor.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "accounts": User.objects.count(),
    }
