"""Open311 GeoReport v2, read only (issue 13, item 5): services, requests and one request, as
JSON or XML, for published petitions only, with the public fields of the specification.

* ``service_code``/``service_name``: the petition's topic.
* ``status``: ``open`` while the petition waits for its answer, ``closed`` once answered.
* ``status_notes``: the public answer the office published; ``description``: its summary.
* ``agency_responsible``: the agency the head assigned the petition to; ``expected_datetime``:
  the end of its due day (P8, or the extended one, P9).
* ``lat``/``long``: the location the resident shared, rounded to the street (3 decimals, about
  100 m; X3), null when none was shared; ``address``: the street the office checked when it
  published the petition (never a house number) and the ward.
* ``jurisdiction_id`` (optional): a ward's code, which keeps that ward and the units below it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from xml.etree import ElementTree

from aiohttp import web
from sqlalchemy import Engine

from procedure.use_cases.publication import (
    PublicFilter,
    PublicPetition,
    public_petitions,
    public_topics,
    ward_by_code,
)
from procedure.use_cases.sessions import units_below
from storage.unit_of_work import UnitOfWork
from texts import LOCAL_TIMEZONE, t, to_local

BASE = "/open311/v2"
# GeoReport v2: the fields of a service request, in the order of the specification.
REQUEST_FIELDS = (
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
)
SERVICE_FIELDS = (
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
)
MAX_REQUESTS = 1000
Value = str | float | bool | None


class BadRequest(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _moment(value: datetime) -> str:
    """W3C date-time with the local offset, as the specification's examples."""
    return to_local(value).isoformat(timespec="seconds")


def _end_of(day: str | None) -> str | None:
    """The end of a due day in Asia/Ho_Chi_Minh: a result is on time until that evening."""
    if day is None:
        return None
    moment = datetime.combine(date.fromisoformat(day), time(23, 59, 59), LOCAL_TIMEZONE)
    return moment.isoformat(timespec="seconds")


def request_of(item: PublicPetition) -> dict[str, Value]:
    values: dict[str, Value] = {
        "service_request_id": item.code,
        "status": "open" if item.is_open else "closed",
        "status_notes": item.answer,
        "service_name": item.topic_name,
        "service_code": item.topic_code,
        "description": item.subject,
        "agency_responsible": item.agency,
        "service_notice": None,
        "requested_datetime": _moment(item.requested_at),
        "updated_datetime": _moment(item.updated_at),
        "expected_datetime": _end_of(item.due_on),
        "address": item.address,
        "address_id": None,
        "zipcode": None,
        "lat": item.latitude,
        "long": item.longitude,
        "media_url": None,
    }
    return {name: values[name] for name in REQUEST_FIELDS}


def _list(query: Mapping[str, str], name: str) -> list[str] | None:
    raw = query.get(name)
    if raw is None or not raw.strip():
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


def _when(query: Mapping[str, str], name: str, *, end: bool) -> datetime | None:
    raw = query.get(name)
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time.max if end else time.min, LOCAL_TIMEZONE)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=LOCAL_TIMEZONE)
    except ValueError as bad:
        raise BadRequest(name) from bad
    return moment


def _filters(uow: UnitOfWork, query: Mapping[str, str]) -> PublicFilter | None:
    """The filters of GET requests; ``None`` when the jurisdiction is unknown (no request)."""
    statuses = _list(query, "status")
    if statuses is not None and not set(statuses) <= {"open", "closed"}:
        raise BadRequest("status")
    is_open = None if statuses is None or len(set(statuses)) == 2 else statuses[0] == "open"
    unit_ids = None
    jurisdiction = query.get("jurisdiction_id", "").strip()
    if jurisdiction:
        ward = ward_by_code(uow, jurisdiction)
        if ward is None or ward.id is None:
            return None
        unit_ids = units_below(uow, ward.id)
    return PublicFilter(
        unit_ids=unit_ids,
        codes=_list(query, "service_request_id"),
        topic_codes=_list(query, "service_code"),
        is_open=is_open,
        start=_when(query, "start_date", end=False),
        end=_when(query, "end_date", end=True),
        limit=MAX_REQUESTS,
    )


def _xml(root: str, item: str, rows: Sequence[Mapping[str, Value]]) -> str:
    top = ElementTree.Element(root)
    for row in rows:
        element = ElementTree.SubElement(top, item)
        for name, value in row.items():
            child = ElementTree.SubElement(element, name)
            if value is not None:
                child.text = str(value).lower() if isinstance(value, bool) else str(value)
    return '<?xml version="1.0" encoding="utf-8"?>' + ElementTree.tostring(top, encoding="unicode")


def _respond(
    rows: Sequence[Mapping[str, Value]], fmt: str, root: str, item: str, status: int = 200
) -> web.Response:
    headers = {"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"}
    if fmt == "xml":
        return web.Response(
            text=_xml(root, item, rows),
            status=status,
            content_type="text/xml",
            charset="utf-8",
            headers=headers,
        )
    return web.Response(
        text=json.dumps(list(rows), ensure_ascii=False),
        status=status,
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def _error(code: int, description: str, fmt: str) -> web.Response:
    return _respond([{"code": code, "description": description}], fmt, "errors", "error", code)


class Open311:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[web.AbstractRouteDef]:
        return [
            web.get(BASE + "/services.{fmt:json|xml}", self._services),
            web.get(BASE + "/requests.{fmt:json|xml}", self._requests),
            web.get(BASE + "/requests/{code}.{fmt:json|xml}", self._request),
        ]

    def _service_rows(self) -> list[dict[str, Value]]:
        with UnitOfWork(self.engine) as uow:
            return [
                {
                    "service_code": topic.code,
                    "service_name": topic.name,
                    "description": t("public.open311.service_description", topic=topic.name),
                    "metadata": False,
                    "type": "realtime",
                    "keywords": "",
                    "group": topic.kind,
                }
                for topic in public_topics(uow)
            ]

    def _request_rows(self, query: Mapping[str, str]) -> list[dict[str, Value]]:
        with UnitOfWork(self.engine) as uow:
            filters = _filters(uow, query)
            if filters is None:
                return []
            return [request_of(item) for item in public_petitions(uow, filters)]

    async def _services(self, request: web.Request) -> web.Response:
        rows = await asyncio.to_thread(self._service_rows)
        return _respond(rows, request.match_info["fmt"], "services", "service")

    async def _requests(self, request: web.Request) -> web.Response:
        fmt = request.match_info["fmt"]
        try:
            rows = await asyncio.to_thread(self._request_rows, dict(request.query))
        except BadRequest as bad:
            return _error(400, t("public.open311.bad_request", name=bad.name), fmt)
        return _respond(rows, fmt, "service_requests", "request")

    async def _request(self, request: web.Request) -> web.Response:
        fmt = request.match_info["fmt"]
        query = {"service_request_id": request.match_info["code"]}
        rows = await asyncio.to_thread(self._request_rows, query)
        if not rows:
            return _error(404, t("public.open311.not_found"), fmt)
        return _respond(rows, fmt, "service_requests", "request")
