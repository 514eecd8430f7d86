"""What modules are enabled, and the KPIs they registered."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from cityops.core.deps import SessionDep, require
from cityops.core.policy import Perm, Principal

router = APIRouter(prefix="/api", tags=["modules"])
log = logging.getLogger("cityops.kpis")

Reader = Annotated[Principal, Depends(require(Perm.modules_read))]


class ModulePublic(BaseModel):
    """An enabled module."""

    name: str
    title_vi: str
    title_en: str
    description: str


class KpiPublic(BaseModel):
    """A KPI and its current value in the caller's scope (null if it could not be computed)."""

    key: str
    module: str
    title_vi: str
    title_en: str
    unit: str
    value: float | None
    higher_is_better: bool


class WidgetPublic(BaseModel):
    """A dashboard widget offered by a module."""

    key: str
    module: str
    title_vi: str
    title_en: str
    component: str
    data_url: str


@router.get("/modules")
def list_modules(request: Request, principal: Reader) -> list[ModulePublic]:
    """List the enabled sector modules."""
    return [
        ModulePublic(
            name=m.name, title_vi=m.title_vi, title_en=m.title_en, description=m.description
        )
        for m in request.app.state.registry.modules.values()
    ]


@router.get("/kpis")
def list_kpis(request: Request, principal: Reader, session: SessionDep) -> list[KpiPublic]:
    """Compute every registered KPI for your scope."""
    out = []
    for key, kpi in request.app.state.registry.kpis.items():
        try:
            value = kpi.value_fn(session, principal)
        except Exception:
            log.exception("KPI %s failed", key)
            session.rollback()
            value = None
        out.append(
            KpiPublic(
                key=key,
                module=key.split(".", 1)[0],
                title_vi=kpi.title_vi,
                title_en=kpi.title_en,
                unit=kpi.unit,
                value=None if value is None else float(value),
                higher_is_better=kpi.higher_is_better,
            )
        )
    return out


@router.get("/widgets")
def list_widgets(request: Request, principal: Reader) -> list[WidgetPublic]:
    """List the dashboard widgets the enabled modules offer."""
    return [
        WidgetPublic(
            key=key,
            module=key.split(".", 1)[0],
            title_vi=w.title_vi,
            title_en=w.title_en,
            component=w.component,
            data_url=w.data_url,
        )
        for key, w in request.app.state.registry.widgets.items()
    ]
