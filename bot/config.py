"""Configuration from the environment: one place, read once, with defaults that just work."""

from __future__ import annotations

import os
import re
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


class ConfigError(ValueError):
    """A variable of the environment that cannot be used: its name and what it should hold (a
    catalogue key of ``config.expect``, with its fields). The value is never repeated: it may
    be a secret (a token). ``doithoai`` prints it in one line and exits with 2."""

    def __init__(self, name: str, expected: str, **fields: object) -> None:
        super().__init__(f"{name}: {expected}")
        self.name, self.expected, self.fields = name, expected, fields

    def message(self) -> str:
        """What to fix, in one Vietnamese sentence."""
        from texts import t

        expected = t(f"config.expect.{self.expected}", **self.fields)
        return t("config.bad", name=self.name, expected=expected)


class DatabaseUnavailable(Exception):
    """The database ``DATABASE_URL`` names cannot be opened: where (its password hidden) and
    the driver's reason, first line (``doithoai`` says so in one line, exit status 69)."""

    def __init__(self, url: str, reason: str) -> None:
        from sqlalchemy.engine import make_url

        self.where = make_url(url).render_as_string(hide_password=True)
        self.reason = (reason.strip().splitlines() or ["?"])[0]
        super().__init__(f"{self.where}: {self.reason}")


#: The exit status of a command whose database or listening address cannot be opened (sysexits'
#: EX_UNAVAILABLE).
EXIT_UNAVAILABLE = 69


# A bot token as @BotFather gives it: the bot's id, a colon, then letters, digits, - and _.
_TELEGRAM_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
FRAMEWORKS = ("aiogram", "ptb")
LOG_FORMATS = ("text", "json")


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = (env.get(name) or "").strip()
    return value or None


def _whole(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    value = _text(env, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise ConfigError(name, "whole_number", minimum=minimum)
    return number


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    value = _text(env, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not 0 < number < float("inf"):
        raise ConfigError(name, "positive_number")
    return number


def _clock(env: Mapping[str, str], name: str, default: str) -> time:
    value = _text(env, name) or default
    if value[1:2] == ":":  # 7:30 as well as 07:30
        value = "0" + value
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ConfigError(name, "clock") from None


def _alert_hours(env: Mapping[str, str]) -> tuple[time, time]:
    start = _clock(env, "ALERT_HOURS_START", "07:30")
    end = _clock(env, "ALERT_HOURS_END", "17:00")
    if start >= end:
        raise ConfigError("ALERT_HOURS_START", "before_end")
    return start, end


def _one_of(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = (_text(env, name) or choices[0]).lower()
    if value not in choices:
        raise ConfigError(name, "one_of", choices=", ".join(choices))
    return value


def _telegram_token(env: Mapping[str, str]) -> str | None:
    """The token without the spaces or line end a copy often brings; one that cannot be a
    token (a space inside, no colon) is refused here rather than by the framework's traceback."""
    token = _text(env, "TELEGRAM_BOT_TOKEN")
    if token is not None and _TELEGRAM_TOKEN.fullmatch(token) is None:
        raise ConfigError("TELEGRAM_BOT_TOKEN", "telegram_token")
    return token


def _flag(value: str | None, *, default: bool) -> bool:
    if not value or not value.strip():
        return default
    return value.strip().lower() not in {"0", "off", "no", "false"}


def _listen(env: Mapping[str, str]) -> str:
    value = _text(env, "WEBHOOK_LISTEN") or "127.0.0.1:8080"
    _, colon, port = value.rpartition(":")
    if not colon or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError("WEBHOOK_LISTEN", "listen")
    return value


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
            telegram_bot_token=_telegram_token(env),
            telegram_api_url=env.get("TELEGRAM_API_URL") or DEFAULT_TELEGRAM_API_URL,
            telegram_framework=_one_of(env, "TELEGRAM_FRAMEWORK", FRAMEWORKS),
            telegram_bot_username=(env.get("TELEGRAM_BOT_USERNAME") or "").lstrip("@") or None,
            telegram_messages_per_second=_rate(env, "TELEGRAM_MESSAGES_PER_SECOND", 30.0),
            telegram_messages_per_chat_per_second=_rate(
                env, "TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND", 1.0
            ),
            verify_code_as=(env.get("VERIFY_CODE_AS") or "").lower() or None,
            webhook_url=env.get("WEBHOOK_URL") or None,
            webhook_secret=env.get("WEBHOOK_SECRET") or None,
            webhook_listen=_listen(env),
            alert_hours=_alert_hours(env),
            web_chat=_flag(env.get("WEB_CHAT"), default=True),
            web_chat_origins=tuple(
                origin.strip().rstrip("/")
                for origin in (env.get("WEB_CHAT_ORIGINS") or "").split(",")
                if origin.strip()
            ),
            web_chat_trust_proxy=_flag(env.get("WEB_CHAT_TRUST_PROXY"), default=False),
            web_chat_keep_days=_whole(env, "WEB_CHAT_KEEP_DAYS", 60),
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
            log_format=_one_of(env, "LOG_FORMAT", LOG_FORMATS),
            public_url=(env.get("PUBLIC_URL") or "").strip().rstrip("/") or None,
            file_link_secret=env.get("FILE_LINK_SECRET") or None,
            file_link_days=_whole(env, "FILE_LINK_DAYS", 30, minimum=1),
            workers=_whole(env, "WORKERS", 1, minimum=1),
            replies_through_outbox=(
                _flag(env.get("REPLIES_THROUGH_OUTBOX"), default=False)
                if (env.get("REPLIES_THROUGH_OUTBOX") or "").strip()
                else None
            ),
            periods=Periods(
                notice_working_days=_whole(env, "NOTICE_WORKING_DAYS", 5),
                conclusion_working_days=_whole(env, "CONCLUSION_WORKING_DAYS", 10),
                result_working_days=_whole(env, "RESULT_WORKING_DAYS", 20),
                triage_working_days=_whole(env, "TRIAGE_WORKING_DAYS", 10),
                inbox_result_working_days=_whole(env, "INBOX_RESULT_WORKING_DAYS", 20),
                resolution_check_working_days=_whole(env, "RESOLUTION_CHECK_WORKING_DAYS", 10),
            ),
        )
