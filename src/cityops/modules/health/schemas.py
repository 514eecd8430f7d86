"""Pydantic schemas of the health API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from cityops.modules.health.choices import Level
from cityops.modules.sector import ImportResult


class FacilityBase(BaseModel):
    """Fields shared by every shape of a health facility."""

    name: str = Field(min_length=1, max_length=200)
    level: Level
    unit_code: str = Field(description="The commune or ward the facility is in")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str | None = Field(default=None, max_length=300)
    beds: int = Field(default=0, ge=0, description="Planned beds (giường kế hoạch)")
    telephone: str | None = Field(default=None, max_length=40)


class FacilityCreate(FacilityBase):
    """What a health department sends to add (or replace) a facility in the hub."""

    code: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")


class FacilityUpdate(BaseModel):
    """Today's bed figures of a facility (kept as history by the hub)."""

    occupied_beds: int = Field(ge=0)
    beds: int | None = Field(default=None, ge=0)
    observed_at: datetime | None = None


class FacilityList(BaseModel):
    """Facilities as a GeoJSON FeatureCollection (for the map)."""

    type: str = "FeatureCollection"
    features: list[dict[str, Any]]


class OccupancyRow(BaseModel):
    """Bed figures of one facility level."""

    level: str
    label_vi: str
    label_en: str
    facilities: int
    beds: int
    occupied_beds: int
    occupancy_rate: float | None


class OccupancySummary(BaseModel):
    """Beds and occupancy in the caller's scope, in total and by facility level."""

    facilities: int
    beds: int
    occupied_beds: int
    occupancy_rate: float | None
    by_level: list[OccupancyRow]


class CaseBase(BaseModel):
    """Weekly cases of a disease in a commune (the shape of an uploaded row, too)."""

    disease: str
    unit_code: str
    week: str = Field(description="ISO week 'YYYY-Www' (e.g. 2026-W45) or the Monday's date")
    cases: int = Field(ge=0)
    deaths: int = Field(default=0, ge=0)


class CasePublic(CaseBase):
    """A stored weekly count."""

    disease_vi: str
    unit_name: str
    week_start: date
    source: str | None
    entered_by: str
    entered_at: datetime


class CaseList(BaseModel):
    """Stored weekly counts."""

    items: list[CasePublic]
    total: int


class CaseImportResult(ImportResult):
    """What a case upload did: rows stored, refused rows with reasons, signals raised."""

    signals: int


class SignalPublic(BaseModel):
    """An outbreak signal on a commune's weekly count."""

    id: int
    disease: str
    disease_vi: str
    disease_en: str
    unit_code: str
    unit_name: str
    week: str
    week_start: date
    cases: int
    baseline_mean: float
    c1: float
    c2: float
    c3: float
    methods: list[str]
    raised_at: datetime


class SignalList(BaseModel):
    """Outbreak signals, newest week first."""

    items: list[SignalPublic]
    total: int
