"""Issue 12 (C8, X4): PostgreSQL connections are tested before use only after lying idle.

``pool_pre_ping`` sent a ``SELECT 1`` at every checkout, one more round trip for each of an
update's short transactions. Now a connection used a moment ago is handed out as it is, and one
idle longer than ``PING_AFTER_IDLE_SECONDS`` is tested first: a server restart or a dropped
connection during a quiet spell still costs no failed unit of work. Needs PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from storage import engine as engine_module
from storage.engine import make_engine

postgresql_only = pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)


@pytest.fixture
def own_engine(engine: Engine) -> Iterator[Engine]:
    """An engine of its own (as a worker has) on the test's database."""
    made = make_engine(engine.url.render_as_string(hide_password=False))
    yield made
    made.dispose()


def _backend_of(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(killer: Engine, pid: int) -> None:
    with killer.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        connection.commit()


@postgresql_only
def test_c8_x4_an_idle_connection_the_server_dropped_is_replaced_before_use(
    engine: Engine, own_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.05)
    dropped = _backend_of(own_engine)
    _terminate(engine, dropped)
    time.sleep(0.1)  # idle longer than the threshold: tested at checkout, found dead, replaced
    assert _backend_of(own_engine) != dropped


@postgresql_only
def test_c8_x4_a_connection_used_a_moment_ago_is_not_tested_again(
    engine: Engine, own_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ping within the threshold: a connection dropped in that moment fails the statement
    (SQLAlchemy's disconnect handling then empties the pool), and the next use has a new one."""
    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 3600.0)
    dropped = _backend_of(own_engine)
    _terminate(engine, dropped)
    time.sleep(0.1)
    with pytest.raises(Exception, match=r"terminat|closed|connection"):
        _backend_of(own_engine)
    assert _backend_of(own_engine) != dropped
