"""Parse the query parameters of the NGSI-LD temporal API (timerel, lastN, aggregation...)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cityops.context.entities import parse_datetime
from cityops.context.errors import bad_request, invalid_request
from cityops.context.jsonld import ActiveContext
from cityops.context.query import split
from cityops.context.render import dataset_filter

TIMERELS = ("before", "after", "between")
TIMEPROPERTIES = ("observedAt", "modifiedAt", "createdAt", "deletedAt")
AGGR_METHODS = ("totalCount", "distinctCount", "sum", "avg", "min", "max", "stddev", "sumsq")
_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_CALENDAR = re.compile(r"^P[^T]*\d[YM]")


@dataclass(frozen=True)
class TemporalQuery:
    """What a temporal request asks for: time window, representation and aggregation."""

    timerel: str | None = None
    time_at: datetime | None = None
    end_time_at: datetime | None = None
    timeproperty: str = "observedAt"
    last_n: int | None = None
    mode: str = "normalized"  # normalized | temporalValues | aggregatedValues
    sys_attrs: bool = False
    methods: tuple[str, ...] = ()
    period: int | None = None  # aggregation period in seconds; None = the whole range
    attrs: frozenset[str] | None = None  # expanded IRIs
    datasets: frozenset[str] | None = None  # datasetIds asked for ('' = default instance)

    @property
    def lower(self) -> datetime | None:
        """Return the inclusive lower bound of the time window (None: unbounded)."""
        return self.time_at if self.timerel in ("after", "between") else None

    @property
    def upper(self) -> datetime | None:
        """Return the exclusive upper bound of the time window (None: unbounded)."""
        if self.timerel == "before":
            return self.time_at
        return self.end_time_at if self.timerel == "between" else None


def parse_duration(text: str) -> int | None:
    """Parse an ISO 8601 duration (weeks to seconds) into seconds; PT0S/P0D mean None."""
    text = text or ""
    if _CALENDAR.match(text):
        raise bad_request(
            f"aggrPeriodDuration {text!r}: years and months are not supported, use days (P30D)"
        )
    match = _DURATION.match(text)
    if not match or text in ("P", "PT") or text.endswith("T"):
        raise bad_request(f"aggrPeriodDuration {text!r} is not an ISO 8601 duration like PT1H")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    seconds = (
        parts["w"] * 604800 + parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    )
    if seconds and seconds < 1:
        raise bad_request("aggrPeriodDuration must be at least one second")
    return int(seconds) or None


def _time_window(params: dict[str, Any]) -> tuple[str | None, datetime | None, datetime | None]:
    timerel = params.get("timerel") or None
    time_at = params.get("timeAt") or None
    end = params.get("endTimeAt") or None
    if timerel is None:
        if time_at or end:
            raise bad_request("timeAt and endTimeAt need timerel (before, after or between)")
        return None, None, None
    if timerel not in TIMERELS:
        raise bad_request(f"timerel must be one of {', '.join(TIMERELS)}, not {timerel!r}")
    if not time_at:
        raise bad_request(f"timerel={timerel} needs timeAt")
    start = parse_datetime(time_at, "timeAt")
    if timerel != "between":
        if end:
            raise bad_request("endTimeAt is only allowed with timerel=between")
        return timerel, start, None
    if not end:
        raise bad_request("timerel=between needs endTimeAt")
    stop = parse_datetime(end, "endTimeAt")
    if stop <= start:
        raise bad_request("endTimeAt must be after timeAt")
    return timerel, start, stop


def _mode(params: dict[str, Any]) -> tuple[str, bool]:
    """The representation asked for: `format` when given (it takes precedence over the
    representation named in `options`, GS CIM 009 6.3.12), else `options`."""
    options = set(split(params.get("options")) or [])
    fmt = params.get("format") or ""
    known = {"temporalValues", "aggregatedValues", "sysAttrs", "normalized"}
    unknown = options - known
    if unknown:
        raise invalid_request(f"unknown options for a temporal query: {', '.join(sorted(unknown))}")
    if fmt:
        if fmt not in ("temporalValues", "aggregatedValues", "normalized"):
            raise invalid_request(
                f"format must be temporalValues, aggregatedValues or normalized: {fmt!r}"
            )
        return fmt, "sysAttrs" in options
    wanted = {m for m in ("temporalValues", "aggregatedValues") if m in options}
    if len(wanted) > 1:
        raise bad_request("ask for temporalValues or aggregatedValues, not both")
    return (wanted.pop() if wanted else "normalized"), "sysAttrs" in options


def parse_temporal(params: dict[str, Any], ctx: ActiveContext) -> TemporalQuery:
    """Turn the query string of a temporal request into a TemporalQuery (BadRequestData if bad)."""
    timerel, time_at, end = _time_window(params)
    timeproperty = params.get("timeproperty") or "observedAt"
    if timeproperty not in TIMEPROPERTIES:
        raise bad_request(f"timeproperty must be one of {', '.join(TIMEPROPERTIES)}")
    last_n = None
    if params.get("lastN") not in (None, ""):
        try:
            last_n = int(params["lastN"])
        except ValueError as err:
            raise bad_request("lastN must be a positive integer") from err
        if last_n < 1:
            raise bad_request("lastN must be a positive integer")
    mode, sys_attrs = _mode(params)
    methods: tuple[str, ...] = ()
    period = None
    if mode == "aggregatedValues" and timeproperty == "deletedAt":
        raise bad_request("deletions hold no values to aggregate: timeproperty=deletedAt")
    if mode == "aggregatedValues":
        asked = split(params.get("aggrMethods")) or []
        if not asked:
            raise bad_request("aggregatedValues needs aggrMethods (e.g. avg,min,max)")
        bad = [m for m in asked if m not in AGGR_METHODS]
        if bad:
            raise bad_request(f"unknown aggrMethods {bad}; known: {', '.join(AGGR_METHODS)}")
        methods = tuple(dict.fromkeys(asked))
        period = parse_duration(params.get("aggrPeriodDuration") or "PT0S")
    elif not params.get("format") and (
        params.get("aggrMethods") or params.get("aggrPeriodDuration")
    ):  # (with another format asked for, they are ignored with the option that named them)
        raise bad_request("aggrMethods and aggrPeriodDuration need options=aggregatedValues")
    attrs = split(params.get("attrs"))
    datasets = split(params.get("datasetId"))
    return TemporalQuery(
        timerel=timerel,
        time_at=time_at,
        end_time_at=end,
        timeproperty=timeproperty,
        last_n=last_n,
        mode=mode,
        sys_attrs=sys_attrs,
        methods=methods,
        period=period,
        attrs=frozenset(ctx.expand(a) for a in attrs) if attrs else None,
        datasets=dataset_filter(datasets),
    )
