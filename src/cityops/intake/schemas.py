"""Pydantic schemas of the HTTP intake (device-friendly readings)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_READINGS = 10_000


class ReadingsCreate(BaseModel):
    """A batch of readings; bad ones are reported by index, good ones land."""

    model_config = ConfigDict(populate_by_name=True)

    # items are checked one by one, so that one bad reading does not reject the batch
    readings: list[dict[str, Any]] = Field(
        max_length=MAX_READINGS,
        description=(
            "Readings: {entity_id: URI, type: e.g. AirQualityObserved, attrs: {pm25: 35.2, ...}"
            " (keyValues), observed_at: ISO 8601 (default: now)}"
        ),
    )
    context: Any = Field(
        None,
        alias="@context",
        description="JSON-LD @context for every reading (default: the type's Smart Data Model)",
    )


class ReadingErrorPublic(BaseModel):
    """Why one reading did not land."""

    index: int
    entity_id: str | None
    detail: str
    code: str


class ReadingsPublic(BaseModel):
    """What a batch did."""

    accepted: int
    created: list[str]
    errors: list[ReadingErrorPublic]
