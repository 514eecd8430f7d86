"""Request and response bodies of CAP publishing."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CircleArea(BaseModel):
    """A circle around a point."""

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    radius_km: float = Field(2.0, gt=0, le=500)


class PublishCap(BaseModel):
    """The operator's choices for a CAP message (unset: derived from the alert)."""

    urgency: Literal["Immediate", "Expected", "Future", "Past", "Unknown"] | None = None
    certainty: Literal["Observed", "Likely", "Possible", "Unlikely", "Unknown"] | None = None
    category: (
        Literal[
            "Geo",
            "Met",
            "Safety",
            "Security",
            "Rescue",
            "Fire",
            "Health",
            "Env",
            "Transport",
            "Infra",
            "CBRNE",
            "Other",
        ]
        | None
    ) = None
    instruction_vi: str | None = Field(None, max_length=2000)
    instruction_en: str | None = Field(None, max_length=2000)
    area_desc_vi: str | None = Field(None, max_length=500)
    area_desc_en: str | None = Field(None, max_length=500)
    polygon: list[tuple[float, float]] | None = Field(
        None, min_length=3, max_length=500, description="[lat, lon] points of the area"
    )
    circle: CircleArea | None = None


class CapMessagePublic(BaseModel):
    """A CAP message issued for an alert."""

    model_config = ConfigDict(from_attributes=True)

    identifier: str
    alert_id: int
    msg_type: str
    sent_at: datetime
    references: str | None
    url: str


class CapImported(BaseModel):
    """What a CAP message from another system did."""

    alert_id: int
    result: Literal["raised", "updated", "cleared"]
    severity: str
    unit_id: int | None
