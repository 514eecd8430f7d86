"""Pydantic schemas of the education API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cityops.modules.education.choices import Level


class SchoolBase(BaseModel):
    """Fields shared by every shape of a school."""

    name: str = Field(min_length=1, max_length=200)
    level: Level
    unit_code: str = Field(description="The commune or ward the school is in")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    address: str | None = Field(default=None, max_length=300)


class SchoolCreate(SchoolBase):
    """What the education department sends to add (or change) a school in the hub."""

    code: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")


class SchoolList(BaseModel):
    """Schools as a GeoJSON FeatureCollection (for the map)."""

    type: str = "FeatureCollection"
    features: list[dict[str, Any]]


class FiguresBase(BaseModel):
    """A school's figures for a school year."""

    pupils: int = Field(ge=0)
    teachers: int = Field(ge=0)
    classes: int = Field(ge=0)
    new_entrants: int | None = Field(default=None, ge=0, description="Tuyển mới đầu cấp")
    attendance_rate: float | None = Field(default=None, ge=0, le=100, description="Chuyên cần %")
    exam_candidates: int | None = Field(default=None, ge=0, description="Dự thi tốt nghiệp")
    exam_passed: int | None = Field(default=None, ge=0, description="Tốt nghiệp / hoàn thành")


class FiguresPut(FiguresBase):
    """What a school or the department sends for one school and year (replaces it)."""


class FiguresPublic(FiguresBase):
    """Stored figures of a school and year."""

    school_code: str
    year: int
    school_year: str
    unit_code: str
    level: str
    source: str | None
    entered_by: str
    entered_at: datetime


class FiguresList(BaseModel):
    """Stored figures."""

    items: list[FiguresPublic]
    total: int


class SummaryRow(BaseModel):
    """Totals and ratios of a group of schools (a unit or a level) for a year."""

    key: str
    label: str
    schools: int
    pupils: int
    teachers: int
    classes: int
    new_entrants: int
    pupils_per_teacher: float | None
    pupils_per_class: float | None
    attendance_rate: float | None
    exam_candidates: int
    exam_passed: int
    pass_rate: float | None


class Summary(BaseModel):
    """A unit's totals for a year, and the same by child unit or by level."""

    unit_code: str
    year: int | None
    by: str
    total: SummaryRow
    items: list[SummaryRow]
