"""Pydantic schemas of the tourism API."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field, model_validator

from cityops.modules.tourism.choices import Kind


class Located(BaseModel):
    """Fields every tourism thing on the map has."""

    code: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    unit_code: str = Field(description="The commune or ward it is in")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str | None = Field(default=None, max_length=300)
    url: str | None = Field(default=None, max_length=300)


class PlaceCreate(Located):
    """An attraction, accommodation or destination to add (or change) in the hub."""

    kind: Kind
    category: str | None = Field(
        default=None, max_length=60, description="e.g. nature, beach, heritage, hotel, homestay"
    )
    opening_hours: str | None = Field(default=None, max_length=200)
    rooms: int | None = Field(default=None, ge=0, description="Accommodation: rooms")
    star_rating: int | None = Field(default=None, ge=1, le=5, description="Accommodation: stars")


class EventCreate(Located):
    """A tourism event (festival, race, fair) to add (or change) in the hub."""

    category: str | None = Field(default=None, max_length=60)
    start_date: date
    end_date: date

    @model_validator(mode="after")
    def _ordered(self) -> EventCreate:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class FeatureCollection(BaseModel):
    """Things on the map as GeoJSON."""

    type: str = "FeatureCollection"
    features: list[dict[str, Any]]


class VisitorGuide(BaseModel):
    """What the public visitor page shows: attractions and upcoming events, nothing internal."""

    attractions: FeatureCollection
    events: FeatureCollection
    attribution: str


class MonthStats(BaseModel):
    """Tourism figures of one month for a unit (from the indicator engine)."""

    period: str
    domestic: float | None
    international: float | None
    total: float | None
    total_last_year: float | None
    change_percent: float | None
    occupancy_rate: float | None
    revenue: float | None


class Stats(BaseModel):
    """A year of monthly tourism figures for a unit."""

    unit_code: str
    year: int
    months: list[MonthStats]
