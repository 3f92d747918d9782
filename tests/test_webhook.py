"""The Telegram webhook: bodies that are not an update are answered 400, without a traceback
(X5); a wrong secret is 401; an update is fed to the bot."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.webhook import SECRET_HEADER, WEBHOOK_PATH, webhook_app

SECRET = "s3cret-Token_1"

NOT_UPDATES = [
    b"",
    b"{",
    b"not json",
    b"[]",
    b"[1, 2]",
    b'"a string"',
    b"42",
    b"null",
    b"{}",
    b'{"update_id": "7"}',
    b'{"update_id": true}',
    b"\xff\xfe",
    b"[" * 100_000 + b"]" * 100_000,
]


@pytest.mark.parametrize("body", NOT_UPDATES, ids=range(len(NOT_UPDATES)))
async def test_x5_a_body_that_is_not_an_update_is_answered_400_without_a_traceback(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    fed: list[dict[str, Any]] = []

    async def feed(update: dict[str, Any]) -> None:
        fed.append(update)

    async with TestClient(TestServer(webhook_app(feed, SECRET))) as client:
        with caplog.at_level(logging.WARNING):
            response = await client.post(
                WEBHOOK_PATH,
                data=body,
                headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"},
            )
    assert response.status == 400
    assert fed == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_x5_the_secret_is_checked_first_and_an_update_is_fed() -> None:
    fed: list[dict[str, Any]] = []

    async def feed(update: dict[str, Any]) -> None:
        fed.append(update)

    async with TestClient(TestServer(webhook_app(feed, SECRET))) as client:
        wrong = await client.post(WEBHOOK_PATH, json={"update_id": 1}, headers={SECRET_HEADER: "x"})
        odd = await client.post(
            WEBHOOK_PATH, json={"update_id": 1}, headers={SECRET_HEADER: "sécret"}
        )
        good = await client.post(
            WEBHOOK_PATH, json={"update_id": 7, "message": {}}, headers={SECRET_HEADER: SECRET}
        )
    assert (wrong.status, odd.status, good.status) == (401, 401, 200)
    assert fed == [{"update_id": 7, "message": {}}]
