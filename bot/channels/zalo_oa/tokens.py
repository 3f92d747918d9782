"""The OA's access token, kept in the database and refreshed one process at a time.

Zalo's refresh tokens are single-use and rotate: every refresh returns a new pair and the old
refresh token then fails (``-14020``). So a refresh happens under a database lock
(storage/channel_store.lock_for_refresh: a guarded UPDATE on a generation number, after
``SELECT … FOR UPDATE`` on PostgreSQL); a process that loses the race waits for the winner's
tokens instead of spending the refresh token a second time. An access token is refreshed a
while before it expires, and at once when Zalo calls it expired (-216, -220, HTTP 401).

A process keeps the tokens it read for KEEP_SECONDS: a send reads no database (issue 12: that
read, a thread and a statement inside the rate limiter's turn, delayed each request by a varying
while, and sends paced 37 ms apart reached Zalo bunched, over its budget). Another process's
refresh is seen once that time is up, or at once when Zalo calls the kept token expired (the
refresh then finds the newer generation in the database and spends nothing).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from datetime import datetime, timedelta

import aiohttp
from sqlalchemy import Engine

from bot.channels.base import PermanentFailure, TransientFailure
from bot.channels.plain_text import in_store
from storage import channel_store
from storage.channel_store import Tokens
from storage.types import utc_now

log = logging.getLogger(__name__)

REFRESH_PATH = "/v4/oa/access_token"
USED_REFRESH_TOKEN = -14020
# How long a process uses the tokens it read before reading them again.
KEEP_SECONDS = 30.0


class TokenKeeper:
    def __init__(
        self,
        engine: Engine,
        http: aiohttp.ClientSession,
        *,
        oauth_url: str,
        app_id: str,
        app_secret: str,
        margin: timedelta = timedelta(minutes=10),
        lease: timedelta = timedelta(seconds=30),
        wait_seconds: float = 0.1,
        holder: str | None = None,
    ) -> None:
        self._engine = engine
        self._http = http
        self._url = oauth_url.rstrip("/") + REFRESH_PATH
        self.app_id = app_id
        self._secret = app_secret
        self._margin = margin
        self._lease = lease
        self._wait = wait_seconds
        self.holder = (holder or f"{socket.gethostname()[:30]}:{os.getpid()}:")[:50] + (
            secrets.token_hex(3)
        )
        self._local = asyncio.Lock()
        self.refreshes = 0  # refresh calls this keeper made (tests, logs)
        self._kept: tuple[Tokens, float] | None = None  # the tokens read, and when

    async def current(self) -> Tokens:
        """The tokens as read from the database at most KEEP_SECONDS ago."""
        kept = self._kept
        if kept is not None and time.monotonic() - kept[1] < KEEP_SECONDS:
            return kept[0]
        return await self._read()

    async def _read(self) -> Tokens:
        tokens = await in_store(self._engine, channel_store.load_tokens, self.app_id)
        if tokens is None:
            raise TransientFailure("no Zalo OA tokens yet: run `doithoai zalo token`")
        self._kept = (tokens, time.monotonic())
        return tokens

    async def access_token(self) -> tuple[str, int]:
        """A valid access token and its generation; refreshed first if it expires soon."""
        tokens = await self.current()
        if tokens.access_expires_at - self._margin <= utc_now():
            tokens = await self.refresh(tokens.generation)
        return tokens.access_token, tokens.generation

    async def refresh(self, generation: int) -> Tokens:
        """Replace tokens of ``generation``; if another process (or coroutine) did it already,
        its tokens are returned and the refresh token is not spent again."""
        async with self._local:
            deadline = utc_now() + self._lease * 2
            while True:
                now = utc_now()
                won = await in_store(
                    self._engine,
                    channel_store.lock_for_refresh,
                    self.app_id,
                    holder=self.holder,
                    generation=generation,
                    now=now,
                    lease=self._lease,
                )
                if won is not None:
                    return await self._refresh_locked(won)
                tokens = await self._read()
                if tokens.generation != generation:
                    return tokens
                if now > deadline:
                    raise TransientFailure("Zalo token refresh: lock held too long")
                await asyncio.sleep(self._wait)

    async def _refresh_locked(self, tokens: Tokens) -> Tokens:
        try:
            access, refresh, expires_at = await self._call(tokens.refresh_token)
        except BaseException:
            await in_store(
                self._engine, channel_store.release_refresh_lock, self.app_id, holder=self.holder
            )
            raise
        self.refreshes += 1
        stored = await in_store(
            self._engine,
            channel_store.store_refreshed,
            self.app_id,
            holder=self.holder,
            access=access,
            refresh=refresh,
            expires_at=expires_at,
            now=utc_now(),
        )
        if not stored:  # our lock expired meanwhile; the pair we got is the only valid one now
            log.error("Zalo token refresh finished after its lock expired")
            await in_store(
                self._engine,
                channel_store.save_tokens,
                self.app_id,
                access,
                refresh,
                expires_at,
                utc_now(),
            )
        log.info("Zalo OA access token refreshed (generation %s)", tokens.generation + 1)
        return await self._read()

    async def _call(self, refresh_token: str) -> tuple[str, str, datetime]:
        form = {
            "refresh_token": refresh_token,
            "app_id": self.app_id,
            "grant_type": "refresh_token",
        }
        try:
            async with self._http.post(
                self._url, data=form, headers={"secret_key": self._secret}
            ) as response:
                if response.status >= 500:
                    raise TransientFailure(f"Zalo OAuth HTTP {response.status}")
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as error:
            raise TransientFailure(f"Zalo OAuth: {type(error).__name__}") from error
        if not isinstance(body, dict) or not body.get("access_token"):
            code = body.get("error") if isinstance(body, dict) else None
            if code == USED_REFRESH_TOKEN:
                log.error("Zalo refresh token already used or expired: new tokens are needed")
            raise PermanentFailure(f"Zalo OAuth refused the refresh token (error {code})")
        expires_in = int(str(body.get("expires_in") or "3600"))
        return (
            str(body["access_token"]),
            str(body["refresh_token"]),
            utc_now() + timedelta(seconds=expires_in),
        )
