"""Configuration from the environment: one place, read once, with defaults that just work."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from procedure.periods import Periods
from storage.urls import sqlite_url

DEFAULT_TELEGRAM_API_URL = "https://api.telegram.org"
DEFAULT_ZALO_API_URL = "https://openapi.zalo.me"
DEFAULT_ZALO_OAUTH_URL = "https://oauth.zaloapp.com"
DEFAULT_ZALO_TEMPLATE_URL = "https://business.openapi.zalo.me/message/template"
DEFAULT_ZALO_BOT_API_URL = "https://bot-api.zaloplatforms.com"


def _alert_hours(env: Mapping[str, str]) -> tuple[time, time]:
    start = time.fromisoformat(env.get("ALERT_HOURS_START") or "07:30")
    end = time.fromisoformat(env.get("ALERT_HOURS_END") or "17:00")
    if start >= end:
        raise ValueError("ALERT_HOURS_START must come before ALERT_HOURS_END")
    return start, end


def _flag(value: str | None, *, default: bool) -> bool:
    if not value or not value.strip():
        return default
    return value.strip().lower() not in {"0", "off", "no", "false"}


def _workers(value: str | None) -> int:
    workers = int(value.strip()) if value and value.strip() else 1
    if workers < 1:
        raise ValueError("WORKERS must be 1 or more")
    return workers


def default_data_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "doithoai"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    telegram_bot_token: str | None = None
    telegram_api_url: str = DEFAULT_TELEGRAM_API_URL
    telegram_framework: str = "aiogram"
    telegram_bot_username: str | None = None  # for t.me deep links printed by the CLI
    # The process's budget of Telegram messages (replies and outbox share it): Telegram's
    # published limits by default; lower it when several processes send for one bot.
    telegram_messages_per_second: float = 30.0
    telegram_messages_per_chat_per_second: float = 1.0
    periods: Periods = field(default_factory=Periods)
    verify_code_as: str | None = (
        None  # "image" or "text"; unset: image on Telegram, text in a console
    )
    webhook_url: str | None = None  # set: Telegram pushes updates to it instead of long polling
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1:8080"
    alert_hours: tuple[time, time] = (time(7, 30), time(17, 0))  # C6, Asia/Ho_Chi_Minh
    web_chat: bool = True  # the ward's web chat on WEBHOOK_LISTEN (WEB_CHAT=off: none)
    # Sites that may embed the web chat and open its socket, besides its own address.
    web_chat_origins: tuple[str, ...] = ()
    web_chat_trust_proxy: bool = False  # behind nginx: the client address is X-Real-IP
    web_chat_keep_days: int = 60  # web chat messages kept for a returning page (0: forever)
    # Zalo Official Account (bot/channels/zalo_oa): on when the app id, the app secret and the
    # OA secret key are all set.
    zalo_app_id: str | None = None
    zalo_app_secret: str | None = None
    zalo_oa_secret_key: str | None = None
    zalo_api_url: str = DEFAULT_ZALO_API_URL
    zalo_oauth_url: str = DEFAULT_ZALO_OAUTH_URL
    zalo_oa_webhook_path: str = "/zalo/oa"
    # An approved template for status notices outside the reply window, sent to the verified
    # phone: its id, and "template parameter=message field" pairs separated by commas.
    zalo_oa_template_id: str | None = None
    zalo_oa_template_params: str = ""
    zalo_oa_template_url: str = DEFAULT_ZALO_TEMPLATE_URL
    # Zalo Bot platform (bot/channels/zalo_bot): on when the token is set; a webhook when
    # ZALO_BOT_WEBHOOK_URL is set, otherwise long polling.
    zalo_bot_token: str | None = None
    zalo_bot_api_url: str = DEFAULT_ZALO_BOT_API_URL
    zalo_bot_webhook_url: str | None = None
    zalo_bot_webhook_path: str = "/zalo/bot"
    zalo_bot_webhook_secret: str | None = None
    log_format: str = "text"  # LOG_FORMAT=json: one JSON object a line (bot/logs.py)
    # The address residents and platforms reach this deployment at (https://…, no trailing
    # slash): files and pictures are served there by signed, expiring links (bot/files.py), for
    # channels that cannot carry them (the Zalo Bot, files Zalo OA refuses) and for staff.
    public_url: str | None = None
    file_link_secret: str | None = None  # unset: generated once and kept in the data folder
    file_link_days: int = 30  # how long a file link works
    # How many `doithoai run` processes share the database (issue 12, README "Production: several
    # workers on one PostgreSQL"): above 1, webhook updates go through the inbox, each worker
    # sends within 1/WORKERS of Telegram's budget and keeps its memo of accounts only for the
    # accounts' generation each turn reads (storage/unit_of_work.py).
    workers: int = 1
    # Replies through the outbox, queued in the turn's transaction and sent by the elected
    # sender (issue 12, X4: a kill after the commit loses no reply). None: on PostgreSQL, off
    # on SQLite (one process, replies sent directly); REPLIES_THROUGH_OUTBOX=on/off decides.
    replies_through_outbox: bool | None = None

    def queues_replies(self, dialect: str) -> bool:
        """Whether replies go through the outbox on a database of ``dialect``."""
        if self.replies_through_outbox is not None:
            return self.replies_through_outbox
        return dialect == "postgresql"

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("DOITHOAI_DATA_DIR") or default_data_dir(env))
        return cls(
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL") or sqlite_url(data_dir),
            telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_api_url=env.get("TELEGRAM_API_URL") or DEFAULT_TELEGRAM_API_URL,
            telegram_framework=(env.get("TELEGRAM_FRAMEWORK") or "aiogram").lower(),
            telegram_bot_username=(env.get("TELEGRAM_BOT_USERNAME") or "").lstrip("@") or None,
            telegram_messages_per_second=float(env.get("TELEGRAM_MESSAGES_PER_SECOND") or 30),
            telegram_messages_per_chat_per_second=float(
                env.get("TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND") or 1
            ),
            verify_code_as=(env.get("VERIFY_CODE_AS") or "").lower() or None,
            webhook_url=env.get("WEBHOOK_URL") or None,
            webhook_secret=env.get("WEBHOOK_SECRET") or None,
            webhook_listen=env.get("WEBHOOK_LISTEN") or "127.0.0.1:8080",
            alert_hours=_alert_hours(env),
            web_chat=_flag(env.get("WEB_CHAT"), default=True),
            web_chat_origins=tuple(
                origin.strip().rstrip("/")
                for origin in (env.get("WEB_CHAT_ORIGINS") or "").split(",")
                if origin.strip()
            ),
            web_chat_trust_proxy=_flag(env.get("WEB_CHAT_TRUST_PROXY"), default=False),
            web_chat_keep_days=int(env.get("WEB_CHAT_KEEP_DAYS") or 60),
            zalo_app_id=env.get("ZALO_APP_ID") or None,
            zalo_app_secret=env.get("ZALO_APP_SECRET") or None,
            zalo_oa_secret_key=env.get("ZALO_OA_SECRET_KEY") or None,
            zalo_api_url=env.get("ZALO_API_URL") or DEFAULT_ZALO_API_URL,
            zalo_oauth_url=env.get("ZALO_OAUTH_URL") or DEFAULT_ZALO_OAUTH_URL,
            zalo_oa_webhook_path=env.get("ZALO_OA_WEBHOOK_PATH") or "/zalo/oa",
            zalo_oa_template_id=env.get("ZALO_OA_TEMPLATE_ID") or None,
            zalo_oa_template_params=env.get("ZALO_OA_TEMPLATE_PARAMS") or "",
            zalo_oa_template_url=env.get("ZALO_OA_TEMPLATE_URL") or DEFAULT_ZALO_TEMPLATE_URL,
            zalo_bot_token=env.get("ZALO_BOT_TOKEN") or None,
            zalo_bot_api_url=env.get("ZALO_BOT_API_URL") or DEFAULT_ZALO_BOT_API_URL,
            zalo_bot_webhook_url=env.get("ZALO_BOT_WEBHOOK_URL") or None,
            zalo_bot_webhook_path=env.get("ZALO_BOT_WEBHOOK_PATH") or "/zalo/bot",
            zalo_bot_webhook_secret=env.get("ZALO_BOT_WEBHOOK_SECRET") or None,
            log_format=(env.get("LOG_FORMAT") or "text").strip().lower(),
            public_url=(env.get("PUBLIC_URL") or "").strip().rstrip("/") or None,
            file_link_secret=env.get("FILE_LINK_SECRET") or None,
            file_link_days=int(env.get("FILE_LINK_DAYS") or 30),
            workers=_workers(env.get("WORKERS")),
            replies_through_outbox=(
                _flag(env.get("REPLIES_THROUGH_OUTBOX"), default=False)
                if (env.get("REPLIES_THROUGH_OUTBOX") or "").strip()
                else None
            ),
            periods=Periods(
                notice_working_days=int(env.get("NOTICE_WORKING_DAYS") or 5),
                conclusion_working_days=int(env.get("CONCLUSION_WORKING_DAYS") or 10),
                result_working_days=int(env.get("RESULT_WORKING_DAYS") or 20),
                triage_working_days=int(env.get("TRIAGE_WORKING_DAYS") or 10),
                inbox_result_working_days=int(env.get("INBOX_RESULT_WORKING_DAYS") or 20),
                resolution_check_working_days=int(env.get("RESOLUTION_CHECK_WORKING_DAYS") or 10),
            ),
        )
