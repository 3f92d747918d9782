"""Operators (issue 12, item 7): ``/metrics`` in Prometheus' text format and ``/healthz`` on the
one aiohttp application, served on port 0, and logs as JSON lines with phone numbers masked."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from bot.app import web_application
from bot.config import Settings
from bot.logs import JsonFormatter, PhoneNumberFilter, configure_logging, mask_phone_numbers
from bot.metrics import observed
from bot.ops import OpsRoutes
from handlers.channel import Incoming, Outgoing
from procedure.lifecycles import PetitionState
from procedure.use_cases import petitions
from procedure.use_cases.assignments import AWAITING_RESULT_STATES
from procedure.use_cases.petitions import PetitionKind, PetitionSubmission
from storage.engine import make_engine
from storage.tables import Assignment, OutboxMessage
from storage.unit_of_work import UnitOfWork
from tests.procedure_world import World, build_world
from tests.serving import serving

NOW = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)  # 09:00 in Ho Chi Minh City, Wednesday 04/03/2026
TODAY = date(2026, 3, 4)


@contextlib.asynccontextmanager
async def ops_server(engine: Engine, **options: object) -> AsyncIterator[str]:
    """The application with the operators' routes only, on a port the system chooses."""
    runner = web.AppRunner(web_application([], [OpsRoutes(engine, **options)]))  # type: ignore[arg-type]
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def get(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as client, client.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


def samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, keyed by name and sorted labels (parsed as Prometheus does)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


# -- /metrics -------------------------------------------------------------------------------------


async def test_x4_metrics_count_updates_by_channel_and_outcome_and_time_them(engine):
    channel = f"test-{uuid.uuid4().hex[:8]}"  # the counters are the process's: a label of our own

    async def answer(incoming: Incoming) -> list[Outgoing]:
        if incoming.text == "boom":
            raise RuntimeError("the handler failed")
        return [Outgoing(text="ok")]

    handle = observed(answer)
    for text in ("a", "b", "boom"):
        incoming = Incoming(channel=channel, user_id="1", chat_id="1", text=text)
        if text == "boom":
            with pytest.raises(RuntimeError):
                await handle(incoming)
        else:
            assert await handle(incoming) == [Outgoing(text="ok")]

    async with ops_server(engine) as base:
        status, content_type, body = await get(f"{base}/metrics")
    assert status == 200
    assert content_type.startswith("text/plain") and "version=0.0.4" in content_type
    scraped = samples(body)
    handled = "doithoai_updates_handled_total"
    assert scraped[(handled, (("channel", channel), ("outcome", "ok")))] == 2
    assert scraped[(handled, (("channel", channel), ("outcome", "error")))] == 1
    timing = "doithoai_update_handling_seconds"
    assert scraped[(f"{timing}_count", (("channel", channel),))] == 3
    assert scraped[(f"{timing}_bucket", (("channel", channel), ("le", "+Inf")))] == 3
    assert scraped[(f"{timing}_sum", (("channel", channel),))] >= 0
    for family, kind in (
        ("doithoai_updates_handled_total", "counter"),
        ("doithoai_update_handling_seconds", "histogram"),
        ("doithoai_rate_limited_total", "counter"),
        ("doithoai_outbox_pending", "gauge"),
        ("doithoai_outbox_oldest_pending_age_seconds", "gauge"),
        ("doithoai_deadlines_due", "gauge"),
        ("doithoai_deadlines_overdue", "gauge"),
    ):
        assert f"# TYPE {family} {kind}\n" in body


@pytest.fixture
def world(uow: UnitOfWork) -> World:
    return build_world(uow)


def assign(world: World, uow: UnitOfWork, due: date, state: PetitionState) -> None:
    petition = petitions.submit_petition(
        uow,
        PetitionSubmission(
            person_id=world.residents[0],
            kind=PetitionKind.PETITION,
            topic_code="giao_thong",
            text="Đèn đường hẻm 5 bị hỏng.",
            full_name="Nguyễn Văn An",
            phone_e164="+84912345678",
            area_org_id=world.ward,
            session_id=None,
            street="Lê Lợi",
        ),
        world.context,
    )
    petition.state = state
    uow.session.add(petition)
    uow.session.add(
        Assignment(
            petition_id=petition.id,  # type: ignore[arg-type]
            agency_org_id=world.agency,
            notice_date=due - timedelta(days=30),
            original_due_date=due,
            due_date=due,
            awaiting_result=state in AWAITING_RESULT_STATES,
            answerable_org_id=world.ward,
            tracking_code=petition.tracking_code,
        )
    )


async def test_x4_p8_metrics_read_the_outbox_backlog_and_the_deadlines_from_the_database(
    engine, world: World, uow: UnitOfWork
):
    person = world.residents[0]
    for key, created, sent, failed in (
        ("old", NOW - timedelta(minutes=10), None, None),
        ("new", NOW - timedelta(minutes=1), None, None),
        ("sent", NOW - timedelta(hours=5), NOW, None),
        ("failed", NOW - timedelta(hours=6), None, NOW),
    ):
        uow.session.add(
            OutboxMessage(
                idempotency_key=f"ops:{key}",
                person_id=person,
                kind="test.notice",
                created_at=created,
                sent_at=sent,
                failed_at=failed,
            )
        )
    assign(world, uow, TODAY, PetitionState.FORWARDED)  # due today
    assign(world, uow, TODAY, PetitionState.EXTENDED)  # due today
    assign(world, uow, TODAY, PetitionState.REOPENED)  # due today: the result is owed again
    assign(world, uow, TODAY - timedelta(days=1), PetitionState.FORWARDED)  # overdue
    assign(world, uow, TODAY - timedelta(days=20), PetitionState.EXTENDED)  # overdue
    assign(world, uow, TODAY + timedelta(days=3), PetitionState.FORWARDED)  # not yet due
    assign(world, uow, TODAY - timedelta(days=5), PetitionState.ANSWERED)  # met: not counted
    uow.commit()

    async with ops_server(engine, clock=lambda: NOW) as base:
        status, _type, body = await get(f"{base}/metrics")
    assert status == 200
    scraped = samples(body)
    assert scraped[("doithoai_outbox_pending", ())] == 2
    assert scraped[("doithoai_outbox_oldest_pending_age_seconds", ())] == pytest.approx(600)
    assert scraped[("doithoai_deadlines_due", ())] == 3
    assert scraped[("doithoai_deadlines_overdue", ())] == 2


async def test_x4_metrics_of_an_empty_outbox_say_zero(engine):
    async with ops_server(engine, clock=lambda: NOW) as base:
        _status, _type, body = await get(f"{base}/metrics")
    scraped = samples(body)
    assert scraped[("doithoai_outbox_pending", ())] == 0
    assert scraped[("doithoai_outbox_oldest_pending_age_seconds", ())] == 0
    assert scraped[("doithoai_deadlines_due", ())] == 0
    assert scraped[("doithoai_deadlines_overdue", ())] == 0


# -- /healthz -------------------------------------------------------------------------------------


async def test_x4_healthz_is_200_when_the_database_answers(engine):
    async with ops_server(engine) as base:
        status, _type, body = await get(f"{base}/healthz")
    assert (status, body) == (200, "ok\n")


async def test_x4_c8_healthz_and_metrics_end_their_reads_without_a_rollback(engine):
    """A load balancer asks every few seconds: a ROLLBACK would make psycopg forget every
    statement the connection had prepared (storage/unit_of_work.py), the busiest first."""
    from sqlalchemy import event

    rollbacks: list[object] = []
    event.listen(engine, "rollback", rollbacks.append)
    async with ops_server(engine, clock=lambda: NOW) as base:
        for _ in range(3):
            assert (await get(f"{base}/healthz"))[0] == 200
            assert (await get(f"{base}/metrics"))[0] == 200
    assert rollbacks == []


async def test_x4_healthz_is_503_without_details_when_the_database_is_gone():
    # Nothing listens on port 1: the connection is refused.
    broken = make_engine("postgresql+psycopg://doithoai:secret@127.0.0.1:1/doithoai")
    try:
        async with ops_server(broken) as base:
            status, _type, body = await get(f"{base}/healthz")
    finally:
        broken.dispose()
    assert (status, body) == (503, "unavailable\n")
    assert "secret" not in body and "refused" not in body.lower()


async def test_x4_healthz_is_503_when_the_database_is_too_slow(engine, monkeypatch):
    def slow(self: OpsRoutes) -> None:
        import time

        time.sleep(0.5)

    monkeypatch.setattr(OpsRoutes, "_select_one", slow)
    async with ops_server(engine, health_timeout=0.05) as base:
        status, _type, body = await get(f"{base}/healthz")
    assert (status, body) == (503, "unavailable\n")


async def test_x4_doithoai_run_serves_metrics_and_healthz_beside_the_channels(
    engine, tmp_path: Path
):
    """``serve`` (``doithoai run``): the operators' routes are on the one application, next to
    the web chat's, and the updates a channel hands over are counted."""
    from bot.channels.registry import configured_channels
    from handlers.conversations import Conversations
    from handlers.turn import ChatSettings
    from procedure.use_cases.context import ProcedureContext

    settings = Settings(
        data_dir=tmp_path, database_url=str(engine.url), webhook_listen="127.0.0.1:0"
    )
    channels = configured_channels(settings, engine)
    assert [channel.name for channel in channels] == ["web"]
    conversations = Conversations(engine, ProcedureContext(), ChatSettings(verify_code_as="text"))
    async with serving(settings, conversations, channels) as (running, _task):
        status, _type, body = await get(f"{running.url}healthz")
        assert (status, body) == (200, "ok\n")
        status, _type, body = await get(f"{running.url}metrics")
        assert status == 200
        assert ("doithoai_outbox_pending", ()) in samples(body)


# 429s are counted by both senders: tests/test_outbox_sender.py, tests/test_telegram_delivery.py


# -- logs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gọi 0912 345 678 nhé", "gọi *** nhé"),
        ("+84912345678", "***"),
        ("+84 912-345-678 và 0912.345.678", "*** và ***"),
        ("84912345678 (chat 7000001)", "*** (chat 7000001)"),
        ("hạn 04/03/2026, mã KN-2026-0042, 12 người, 2026-03-04 09:00", None),
    ],
)
def test_c8_logs_mask_phone_number_like_digit_runs(text: str, expected: str | None):
    assert mask_phone_numbers(text) == (text if expected is None else expected)


def logged(log_format: str, emit: object) -> list[str]:
    stream = io.StringIO()
    configure_logging(log_format, logging.INFO)
    root = logging.getLogger()
    (ours,) = [h for h in root.handlers if isinstance(h, logging.StreamHandler) and h.filters]
    previous = ours.setStream(stream)
    try:
        emit()  # type: ignore[operator]
    finally:
        ours.setStream(previous)  # type: ignore[arg-type]
        root.removeHandler(ours)
        root.setLevel(logging.WARNING)
    return stream.getvalue().splitlines()


def test_c8_log_format_json_writes_one_json_object_a_line_with_phone_numbers_masked():
    log = logging.getLogger("doithoai.test")

    def emit() -> None:
        log.info("account %s linked, phone %s", "42", "+84912345678")
        try:
            raise ValueError("bad phone 0912345678")
        except ValueError:
            log.exception("failed for %s", "0912 345 678")

    lines = logged("json", emit)
    assert len(lines) == 2
    lines_read = [json.loads(line) for line in lines]
    first, second = lines_read
    assert first["level"] == "INFO" and first["logger"] == "doithoai.test"
    assert first["message"] == "account 42 linked, phone ***"
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert second["level"] == "ERROR" and second["message"] == "failed for ***"
    assert "ValueError: bad phone ***" in second["exception"]
    # no part of a number anywhere but in the time (whose milliseconds may well read .912)
    untimed = [{key: value for key, value in line.items() if key != "time"} for line in lines_read]
    assert "912" not in json.dumps(untimed)


def test_c8_log_format_text_is_plain_lines_and_masked_too():
    lines = logged("text", lambda: logging.getLogger("doithoai.test").warning("to 0912345678"))
    assert len(lines) == 1 and lines[0].endswith("WARNING doithoai.test to ***")
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[0])


def test_c8_log_format_comes_from_the_environment_and_configuring_twice_keeps_one_handler():
    assert Settings.from_environ({"LOG_FORMAT": "JSON"}).log_format == "json"
    assert Settings.from_environ({}).log_format == "text"
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging("json")
    configure_logging("text")
    try:
        assert len(root.handlers) == before + 1
    finally:
        for handler in root.handlers[before:]:
            root.removeHandler(handler)


def test_c8_the_json_formatter_and_the_filter_alone():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "chat %s", ("0912345678",), None)
    assert PhoneNumberFilter().filter(record)
    assert json.loads(JsonFormatter().format(record))["message"] == "chat ***"
