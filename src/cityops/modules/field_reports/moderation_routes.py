"""HTTP API of duplicates, following and blocked reporters under /api/field-reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from cityops.core.deps import SessionDep, require
from cityops.core.errors import InvalidInput, NotFound
from cityops.core.policy import Perm, Principal
from cityops.modules.field_reports import access, blocks, duplicates, service, spam
from cityops.modules.field_reports import moderation_schemas as ms
from cityops.modules.field_reports.categories import get_category
from cityops.modules.field_reports.choices import STATUSES
from cityops.modules.field_reports.models import Follower
from cityops.modules.field_reports.runtime import Runtime, run, runtime
from cityops.modules.field_reports.views import Lookup

router = APIRouter(prefix="/api/field-reports", tags=["field_reports"])
public = APIRouter(prefix="/api/field-reports", tags=["field_reports (citizens)"])
Reader = Annotated[Principal, Depends(require(Perm.data_read))]
Admin = Annotated[Principal, Depends(require(Perm.users_manage))]
RuntimeDep = Annotated[Runtime, Depends(runtime)]


@router.get("/reports/{code}/duplicates")
def duplicates_of(
    session: SessionDep, principal: Reader, rt: RuntimeDep, code: str
) -> ms.DuplicateList:
    """List open reports of the same category nearby and close in time, nearest first."""
    report = service.get_report(session, principal, code)
    items = []
    for near in duplicates.duplicates_of(session, rt, principal, report):
        r, label = near.report, STATUSES[near.report.status]
        items.append(
            ms.DuplicatePublic(
                tracking_code=r.tracking_code,
                status=r.status,
                status_label_vi=label.label_vi,
                status_label_en=label.label_en,
                description=r.description,
                address=r.address,
                lat=r.lat or 0.0,
                lon=r.lon or 0.0,
                created_at=r.created_at,
                distance_m=near.distance_m,
            )
        )
    return ms.DuplicateList(
        items=items, radius_m=rt.fr.duplicate_radius_m, window_h=rt.fr.duplicate_window_h
    )


@router.get("/reports/{code}/followers")
def followers(session: SessionDep, principal: Reader, code: str) -> list[ms.FollowerPublic]:
    """List who gets a report's notices (contacts only where you may see reporters)."""
    report = service.get_report(session, principal, code)
    shown, lookup = access.sees_reporter(principal, report), Lookup(session)
    return [
        ms.FollowerPublic(
            name=f.name if shown else None,
            phone=f.phone if shown else None,
            email=f.email if shown else None,
            from_report=lookup.code_of(f.from_report_id),
            created_at=f.created_at,
        )
        for f in duplicates.followers(session, report)
    ]


@public.get("/public/nearby")
def nearby(
    session: SessionDep,
    rt: RuntimeDep,
    category: str,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
) -> ms.NearbyList:
    """List verified open reports like yours nearby: follow one instead of filing again."""
    try:
        cat = get_category(session, category)
    except NotFound as err:
        raise InvalidInput(err.detail, code="unknown_category") from err
    lookup, items = Lookup(session), []
    for near in duplicates.nearby_for_citizen(session, rt, cat.id, lat, lon):
        r, label = near.report, STATUSES[near.report.status]
        unit = lookup.unit(r.unit_id)
        items.append(
            ms.NearbyPublic(
                tracking_code=r.tracking_code,
                category_code=cat.code,
                category_name=cat.name,
                status=r.status,
                status_label_vi=label.label_vi,
                status_label_en=label.label_en,
                description=r.description,
                unit_name=unit.name if unit else None,
                lat=r.lat or 0.0,
                lon=r.lon or 0.0,
                created_at=r.created_at,
                distance_m=near.distance_m,
                followers=duplicates.follower_count(session, r),
            )
        )
    return ms.NearbyList(items=items, radius_m=rt.fr.duplicate_radius_m)


@public.post("/public/reports/{code}/follow", status_code=201)
async def follow(request: Request, code: str, data: ms.FollowCreate) -> ms.FollowPublic:
    """Follow a report: you get its notices as if you had reported it."""
    client = spam.client_of(request)

    def work(session: Session, rt: Runtime) -> ms.FollowPublic:
        report = service.find_by_code(session, code)
        if report is None:
            raise NotFound(f"No report {code}")
        device = data.device_id or client.device_id
        blocks.check_not_blocked(session, rt, data.phone, data.email, device)
        contact = Follower(
            name=data.name,
            phone=data.phone,
            email=str(data.email) if data.email else None,
            device_id=device,
        )
        who = Principal(kind="anonymous", name=f"follower:{report.tracking_code}")
        duplicates.add_follower(session, rt, who, report, contact)
        return ms.FollowPublic(
            tracking_code=report.tracking_code,
            followers=duplicates.follower_count(session, report),
            message_vi=f"Bạn sẽ nhận thông báo về phản ánh {report.tracking_code}.",
            message_en=f"You will get the notices of report {report.tracking_code}.",
        )

    return await run(request, work)


@router.get("/blocked")
def list_blocked(session: SessionDep, principal: Admin, rt: RuntimeDep) -> ms.BlockList:
    """List blocked reporters (admins)."""
    items = [blocks.block_public(b, rt) for b in blocks.list_blocks(session)]
    return ms.BlockList(items=items, total=len(items))


@router.post("/blocked", status_code=201)
def create_blocked(
    session: SessionDep, principal: Admin, rt: RuntimeDep, data: ms.BlockCreate
) -> ms.BlockPublic:
    """Block a reporter by phone, email or device id, with a reason and an expiry."""
    return blocks.block_public(blocks.create_block(session, rt, principal, data), rt)


@router.get("/blocked/{block_id}")
def get_blocked(
    session: SessionDep, principal: Admin, rt: RuntimeDep, block_id: int
) -> ms.BlockPublic:
    """Read one block."""
    return blocks.block_public(blocks.get_block(session, block_id), rt)


@router.patch("/blocked/{block_id}")
def update_blocked(
    session: SessionDep, principal: Admin, rt: RuntimeDep, block_id: int, data: ms.BlockUpdate
) -> ms.BlockPublic:
    """Change a block's reason or expiry."""
    block = blocks.update_block(session, principal, blocks.get_block(session, block_id), data)
    return blocks.block_public(block, rt)


@router.delete("/blocked/{block_id}", status_code=204)
def delete_blocked(session: SessionDep, principal: Admin, block_id: int) -> Response:
    """Lift a block."""
    blocks.delete_block(session, principal, blocks.get_block(session, block_id))
    return Response(status_code=204)
