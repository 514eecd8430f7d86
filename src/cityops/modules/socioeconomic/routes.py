"""HTTP API of the socio-economic sector: /api/socioeconomic (the engine does the work)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from cityops.core.deps import SessionDep, require
from cityops.core.errors import NotFound
from cityops.core.policy import Perm, Principal
from cityops.modules.indicators import views as engine
from cityops.modules.indicators.catalogue import get_indicator
from cityops.modules.indicators.schemas import Series
from cityops.modules.socioeconomic import views
from cityops.modules.socioeconomic.catalogue import GROUP_EN, PUBLISHED
from cityops.modules.socioeconomic.schemas import Overview, PublishedPublic

router = APIRouter(prefix="/api/socioeconomic", tags=["socioeconomic"])

Reader = Annotated[Principal, Depends(require(Perm.data_read))]


@router.get("/overview")
def overview(
    session: SessionDep, principal: Reader, period: str | None = None, unit: str | None = None
) -> Overview:
    """Show each group's indicators against target (green/amber/red) for a unit and period."""
    return views.overview(session, principal, period, unit)


@router.get("/trend/{code}")
def trend(
    session: SessionDep,
    principal: Reader,
    code: str,
    unit: str | None = None,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> Series:
    """Show a socio-economic indicator's series for a unit (from/to: periods)."""
    indicator = get_indicator(session, code)
    if indicator.group not in GROUP_EN:
        raise NotFound(f"{code!r} is not a socio-economic indicator", code="unknown_indicator")
    return engine.series(session, principal, indicator, unit, start, end)


@router.get("/published")
def published(principal: Reader) -> list[PublishedPublic]:
    """List published figures of comparable provinces, with their source."""
    return [PublishedPublic(**vars(p)) for p in PUBLISHED]
