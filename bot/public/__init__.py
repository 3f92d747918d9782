"""The public record on the one web application (issue 13): the ward's page of published
petitions and session results (``/congkhai/``), and the Open311 GeoReport v2 read API
(``/open311/v2/``). Only what the office published is read; nothing here writes."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web
from sqlalchemy import Engine

from bot.public.open311 import Open311
from bot.public.pages import PublicPages


def public_record(engine: Engine) -> list[PublicPages | Open311]:
    """The route providers of the public record, for bot/app.py."""
    return [PublicPages(engine), Open311(engine)]


def public_routes(engine: Engine) -> Sequence[web.AbstractRouteDef]:
    return [route for provider in public_record(engine) for route in provider.routes()]
