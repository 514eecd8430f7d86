"""Pydantic schemas of the socio-economic API."""

from __future__ import annotations

from pydantic import BaseModel

from cityops.modules.indicators.schemas import Standing


class GroupOverview(BaseModel):
    """One group of the report: its indicators' standings and how many are in each status."""

    group: str
    group_en: str
    counts: dict[str, int]
    items: list[Standing]


class Overview(BaseModel):
    """Every socio-economic group for a unit and period, and the share on track."""

    unit_code: str
    period: str
    groups: list[GroupOverview]
    judged: int
    on_track: int
    on_track_share: float | None


class PublishedPublic(BaseModel):
    """A published figure of a comparable province (for comparison)."""

    province: str
    indicator: str
    year: int
    value: float
    unit_of_measure: str
    source: str
