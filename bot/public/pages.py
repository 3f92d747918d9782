"""Server-rendered pages of the public record: no script, no build step, readable on a phone,
Vietnamese from the catalogue, every value escaped. Names and phone numbers never reach them:
the readers in procedure/use_cases/publication.py return public fields only."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Sequence
from datetime import date

from aiohttp import web
from sqlalchemy import Engine

from procedure.use_cases.publication import (
    PublicFilter,
    PublicPetition,
    PublicSessionResult,
    public_petitions,
    public_session_results,
    ward_by_code,
    wards_with_public_record,
)
from procedure.use_cases.sessions import units_below
from storage.unit_of_work import UnitOfWork
from texts import format_date, format_datetime, t, to_local

INDEX_PATH = "/congkhai/"
WARD_PATH = "/congkhai/{code}"

STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, "Segoe UI", Roboto, sans-serif; margin: 0; line-height: 1.5;
  color: #1b1b1b; background: #fff; font-size: 1.05rem; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; outline: 3px solid #0b5394; }
header, main, footer { max-width: 46rem; margin: 0 auto; padding: 0 1rem; }
header { border-bottom: 4px solid #a51d24; padding-bottom: .5rem; }
h1 { font-size: 1.5rem; margin: 1rem 0 .5rem; }
h2 { font-size: 1.25rem; margin-top: 2rem; }
h3 { font-size: 1.1rem; margin: 0 0 .5rem; }
article { border: 1px solid #c4c4c4; border-radius: .5rem; padding: .75rem 1rem; margin: 1rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem .75rem; margin: 0; }
dt { font-weight: 600; }
dd { margin: 0; }
.answer { background: #f3f6f9; border-left: 4px solid #0b5394; padding: .5rem .75rem;
  margin: .75rem 0 0; white-space: pre-line; }
a { color: #0b4f8a; }
a:focus { outline: 3px solid #0b5394; outline-offset: 2px; }
footer { margin: 2rem auto; font-size: .95rem; }
@media (max-width: 30rem) { dl { grid-template-columns: 1fr; } dt { margin-top: .25rem; } }
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f'<a class="skip" href="#main">{_e(t("public.page.skip"))}</a>\n{body}\n</body>\n</html>\n'
    )


def _petition(item: PublicPetition, number: int) -> str:
    status = t("public.page.status_open" if item.is_open else "public.page.status_closed")
    rows = [
        (t("public.page.code"), item.code),
        (t("public.page.topic"), item.topic_name),
        (t("public.page.received"), format_date(to_local(item.requested_at).date())),
        (t("public.page.status"), status),
    ]
    if item.agency:
        rows.append((t("public.page.agency"), item.agency))
    if item.answered_on:
        rows.append(
            (t("public.page.answered_on"), format_date(date.fromisoformat(item.answered_on)))
        )
    listed = "".join(f"<dt>{_e(name)}</dt><dd>{_e(value)}</dd>" for name, value in rows)
    listed += _place(item)
    answer = (
        f'<p class="answer"><strong>{_e(t("public.page.answer"))}:</strong> {_e(item.answer)}</p>'
        if item.answer
        else f'<p class="answer">{_e(t("public.page.no_answer"))}</p>'
    )
    return (
        f'<article aria-labelledby="p{number}"><h3 id="p{number}">{_e(item.subject)}</h3>'
        f"<dl>{listed}</dl>{answer}</article>"
    )


def _place(item: PublicPetition) -> str:
    """Where the problem is (issue 13): the street the office checked and the ward, and a map
    link to the point rounded to about 100 m; never a house."""
    where = f"<dt>{_e(t('public.page.place'))}</dt><dd>{_e(item.address)}"
    if item.map_link:
        label = t("public.page.map")
        where += f' · <a href="{_e(item.map_link)}" rel="nofollow">{_e(label)}</a>'
    return where + "</dd>"


def _session(item: PublicSessionResult, number: int) -> str:
    rows = [
        (t("public.page.session_when"), format_datetime(item.starts_at)),
        (t("public.page.session_venue"), item.venue),
        (t("public.page.status"), t(f"public.session_state.{item.state}")),
    ]
    listed = "".join(f"<dt>{_e(name)}</dt><dd>{_e(value)}</dd>" for name, value in rows)
    counts = t("public.page.session_counts", petitions=item.petitions, answered=item.answered)
    if item.conclusion and item.conclusion_notice_date:
        heading = t(
            "public.page.conclusion",
            date=format_date(date.fromisoformat(item.conclusion_notice_date)),
        )
        conclusion = f'<p class="answer"><strong>{_e(heading)}:</strong> {_e(item.conclusion)}</p>'
    else:
        conclusion = f"<p>{_e(t('public.page.no_conclusion'))}</p>"
    return (
        f'<article aria-labelledby="s{number}"><h3 id="s{number}">{_e(item.content)}</h3>'
        f"<dl>{listed}</dl><p>{_e(counts)}</p>{conclusion}</article>"
    )


def ward_page(
    ward_name: str,
    ward_code: str,
    petitions: Sequence[PublicPetition],
    sessions: Sequence[PublicSessionResult],
) -> str:
    title = t("public.page.ward_title", ward=ward_name)
    listed = (
        "".join(_petition(item, number) for number, item in enumerate(petitions, 1))
        or f"<p>{_e(t('public.page.petitions_empty'))}</p>"
    )
    held = (
        "".join(_session(item, number) for number, item in enumerate(sessions, 1))
        or f"<p>{_e(t('public.page.sessions_empty'))}</p>"
    )
    open311 = f"/open311/v2/requests.json?jurisdiction_id={ward_code}"
    body = (
        f"<header><h1>{_e(title)}</h1><p>{_e(t('public.page.intro'))}</p></header>\n"
        '<main id="main">'
        f'<section aria-labelledby="petitions"><h2 id="petitions">'
        f"{_e(t('public.page.petitions_heading'))}</h2>{listed}</section>"
        f'<section aria-labelledby="sessions"><h2 id="sessions">'
        f"{_e(t('public.page.sessions_heading'))}</h2>{held}</section></main>\n"
        f'<footer><p><a href="{INDEX_PATH}">{_e(t("public.page.back"))}</a> · '
        f'<a href="{_e(open311)}">{_e(t("public.page.open311"))}</a></p></footer>'
    )
    return _page(title, body)


def index_page(wards: Sequence[tuple[str, str]]) -> str:
    title = t("public.page.index_title")
    items = "".join(
        f'<li><a href="{_e(WARD_PATH.format(code=code))}">{_e(name)}</a></li>'
        for code, name in wards
    )
    listed = f"<ul>{items}</ul>" if items else f"<p>{_e(t('public.page.index_empty'))}</p>"
    body = (
        f"<header><h1>{_e(title)}</h1></header>\n"
        f'<main id="main"><p>{_e(t("public.page.index_intro"))}</p>{listed}</main>'
    )
    return _page(title, body)


class PublicPages:
    """The two pages; every database read runs in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[web.AbstractRouteDef]:
        return [web.get(INDEX_PATH, self._index), web.get(WARD_PATH, self._ward)]

    def _wards(self) -> list[tuple[str, str]]:
        with UnitOfWork(self.engine) as uow:
            return [(unit.code, unit.name) for unit in wards_with_public_record(uow)]

    def _ward_html(self, code: str) -> str | None:
        with UnitOfWork(self.engine) as uow:
            ward = ward_by_code(uow, code)
            if ward is None or ward.id is None:
                return None
            petitions = public_petitions(uow, PublicFilter(unit_ids=units_below(uow, ward.id)))
            return ward_page(ward.name, ward.code, petitions, public_session_results(uow, ward.id))

    async def _index(self, request: web.Request) -> web.Response:
        page = index_page(await asyncio.to_thread(self._wards))
        return _html_response(page)

    async def _ward(self, request: web.Request) -> web.Response:
        page = await asyncio.to_thread(self._ward_html, request.match_info["code"])
        if page is None:
            return _html_response(
                _page(
                    t("public.page.not_found"),
                    f'<main id="main"><h1>{_e(t("public.page.not_found"))}</h1></main>',
                ),
                status=404,
            )
        return _html_response(page)


def _html_response(page: str, status: int = 200) -> web.Response:
    return web.Response(
        text=page,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
        },
    )
