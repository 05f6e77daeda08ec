"""Input and output shapes of the API."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class CollectivityOut(Schema):
    id: int
    slug: str
    name: str
    short_name: str
    kind: str
    insee_code: str
    siren: str
    siret: str
    population: int | None
    population_year: int | None
    agents_count: int | None
    joined_on: dt.date | None
    left_on: dt.date | None
    website: str


class CollectivityIn(Schema):
    slug: str
    name: str
    kind: str
    short_name: str = ""
    insee_code: str = ""
    siren: str = ""
    siret: str = ""
    population: int | None = None
    population_year: int | None = None
    agents_count: int | None = None
    joined_on: dt.date | None = None
    left_on: dt.date | None = None
    website: str = ""


class CollectivityPatch(Schema):
    name: str | None = None
    short_name: str | None = None
    kind: str | None = None
    insee_code: str | None = None
    siren: str | None = None
    siret: str | None = None
    population: int | None = None
    population_year: int | None = None
    agents_count: int | None = None
    joined_on: dt.date | None = None
    left_on: dt.date | None = None
    website: str | None = None


class ApplicationOut(Schema):
    id: int
    slug: str
    name: str
    domain: str = Field(..., alias="domain.slug")
    software: str
    vendor: str | None = Field(None, alias="vendor.name")
    licence: str
    sso_protocol: str
    description: str
    support_group: str | None = Field(None, alias="support_group.slug")
    source_confidence: str
    attribution_incomplete: bool


class ApplicationIn(Schema):
    slug: str
    name: str
    domain: str
    software: str = ""
    vendor: str | None = None
    licence: str = "inconnue"
    sso_protocol: str = "unknown"
    description: str = ""
    support_group: str | None = None


class ApplicationPatch(Schema):
    name: str | None = None
    domain: str | None = None
    software: str | None = None
    vendor: str | None = None
    licence: str | None = None
    sso_protocol: str | None = None
    description: str | None = None
    support_group: str | None = None


class SubscriptionOut(Schema):
    id: int
    collectivity: str = Field(..., alias="collectivity.slug")
    application: str = Field(..., alias="application.slug")
    status: str
    started_on: dt.date | None
    ended_on: dt.date | None
    note: str


class SubscriptionIn(Schema):
    collectivity: str
    application: str
    status: str = "planned"
    started_on: dt.date | None = None
    ended_on: dt.date | None = None
    note: str = ""


class SubscriptionPatch(Schema):
    status: str | None = None
    started_on: dt.date | None = None
    ended_on: dt.date | None = None
    note: str | None = None
