"""Pydantic schemas of units: UnitBase / UnitCreate / UnitUpdate / UnitPublic / UnitList."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Codes appear in URLs: letters, digits, '.', '_' and '-' only.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
# Levels are free text (province, district, commune, former_province, ...), in snake_case.
LEVEL_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
# A parent code of "VN" (the country) or "" means "no parent": the unit is a root.
ROOT_PARENT_CODES = frozenset({"", "VN"})


class _Validity(BaseModel):
    @model_validator(mode="after")
    def _from_before_until(self) -> _Validity:
        start, end = getattr(self, "valid_from", None), getattr(self, "valid_until", None)
        if start and end and start > end:
            raise ValueError("valid_from must not be after valid_until")
        return self


class UnitBase(_Validity):  # fields every unit has, as sent and as returned
    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(max_length=200, examples=["Phường Phan Thiết"])
    name_en: str | None = Field(None, max_length=200)
    level: str = Field(max_length=40, examples=["commune"])
    division_type: str | None = Field(None, max_length=60, examples=["phường"])
    valid_from: date | None = None
    valid_until: date | None = None
    source: str | None = Field(None, max_length=300)


class UnitCreate(UnitBase):  # what an administrator sends to create a unit
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, examples=["Phường Phan Thiết"])
    level: str = Field(pattern=LEVEL_PATTERN, examples=["commune"])
    code: str = Field(pattern=CODE_PATTERN, examples=["22939"])
    parent_code: str | None = Field(None, max_length=32, description="None, '' or 'VN': a root")
    geometry: dict[str, Any] | None = Field(None, description="GeoJSON Polygon/MultiPolygon")


class UnitUpdate(_Validity):  # fields to change; a field left out stays as it is
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(None, min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    level: str | None = Field(None, pattern=LEVEL_PATTERN)
    division_type: str | None = Field(None, max_length=60)
    valid_from: date | None = None
    valid_until: date | None = None
    source: str | None = Field(None, max_length=300)
    parent_code: str | None = Field(None, max_length=32, description="'' or 'VN' moves to root")
    geometry: dict[str, Any] | None = Field(None, description="GeoJSON; null removes it")


class UnitPublic(UnitBase):  # a unit as the API returns it (its polygon is at /geometry)
    id: int
    code: str
    parent_code: str | None
    path: str
    depth: int
    bbox: list[float] | None = Field(None, description="[min_lon, min_lat, max_lon, max_lat]")
    has_geometry: bool
    is_current: bool = Field(description="valid today (not a former or future unit)")
    created_at: datetime
    updated_at: datetime


class UnitList(BaseModel):  # one page of units and the total that match
    items: list[UnitPublic]
    total: int
    limit: int
    offset: int


class UnitNode(BaseModel):  # one unit in the nested tree, with its children
    id: int
    code: str
    name: str
    level: str
    division_type: str | None = None
    is_current: bool
    children: list[UnitNode] = Field(default_factory=list)


class UnitTree(BaseModel):  # the nested tree of the caller's scope
    items: list[UnitNode]
    total: int


class UnitRefPublic(BaseModel):  # a unit named in a point lookup
    id: int
    code: str
    name: str
    level: str
    depth: int
    valid_from: date | None = None
    valid_until: date | None = None


class LocatePublic(BaseModel):  # which units contain a point
    lat: float
    lon: float
    unit: UnitRefPublic | None = Field(description="deepest current unit with a polygon here")
    chain: list[UnitRefPublic] = Field(description="root first, ending with `unit`")
    former: list[UnitRefPublic] = Field(description="former units whose polygon has this point")
    attribution: str


class ImportResultPublic(BaseModel):  # what an import changed
    source: str
    created: int
    updated: int
    unchanged: int
    total: int
