"""An operator's mistake in the environment (X5, C7): one Vietnamese line naming the variable
and what it should hold, exit status 2, never a traceback, and never the value of a secret.

Before, ``TELEGRAM_BOT_TOKEN`` with a space ended ``doithoai run`` in aiogram's
``TokenValidationError`` traceback; ``WORKERS=abc`` in ``invalid literal for int()``, without
saying which variable held it."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings

SECRET = "123456:AAE-secret part"

BAD = [
    ("TELEGRAM_BOT_TOKEN", SECRET, "mã bot do @BotFather cấp"),
    ("TELEGRAM_BOT_TOKEN", "AAE-no-colon", "không có dấu cách"),
    ("TELEGRAM_FRAMEWORK", "pyrogram", "aiogram, ptb"),
    ("TELEGRAM_MESSAGES_PER_SECOND", "ba mươi", "một số lớn hơn 0"),
    ("TELEGRAM_MESSAGES_PER_CHAT_PER_SECOND", "0", "một số lớn hơn 0"),
    ("ALERT_HOURS_START", "7h30", "ví dụ 07:30"),
    ("ALERT_HOURS_START", "18:00", "sớm hơn ALERT_HOURS_END"),
    ("ALERT_HOURS_END", "25:00", "ví dụ 07:30"),
    ("WORKERS", "0", "từ 1 trở lên"),
    ("WORKERS", "hai", "từ 1 trở lên"),
    ("WEB_CHAT_KEEP_DAYS", "-1", "từ 0 trở lên"),
    ("FILE_LINK_DAYS", "0", "từ 1 trở lên"),
    ("NOTICE_WORKING_DAYS", "năm", "một số nguyên"),
    ("LOG_FORMAT", "xml", "text, json"),
    ("WEBHOOK_LISTEN", "8080", "127.0.0.1:8080"),
    ("WEBHOOK_LISTEN", "0.0.0.0:http", "127.0.0.1:8080"),
]


@pytest.mark.parametrize(("name", "value", "says"), BAD, ids=[f"{n}={v}" for n, v, _ in BAD])
def test_x5_a_setting_that_cannot_be_used_is_named_with_what_it_should_hold(
    name: str, value: str, says: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_environ({name: value})
    message = raised.value.message()
    assert message.startswith(f"Biến môi trường {name} chưa đúng: cần ")
    assert says in message
    assert value not in message or value in ("0", "8080")  # never the token, nor any value


def test_x5_values_people_type_are_read_as_meant() -> None:
    settings = Settings.from_environ(
        {
            "TELEGRAM_BOT_TOKEN": " 123456:AAE_x-Y9 \n",  # pasted with a space and a line end
            "TELEGRAM_FRAMEWORK": "PTB",
            "ALERT_HOURS_START": "7:30",
            "ALERT_HOURS_END": " 16:45 ",
            "WORKERS": " 3 ",
            "TELEGRAM_MESSAGES_PER_SECOND": "10.5",
            "LOG_FORMAT": "JSON",
            "WEBHOOK_LISTEN": "0.0.0.0:8443",
        }
    )
    assert settings.telegram_bot_token == "123456:AAE_x-Y9"
    assert settings.telegram_framework == "ptb"
    assert settings.alert_hours == (time(7, 30), time(16, 45))
    assert settings.workers == 3
    assert settings.telegram_messages_per_second == 10.5
    assert settings.log_format == "json"
    assert settings.webhook_listen == "0.0.0.0:8443"
    defaults = Settings.from_environ({"WORKERS": "", "ALERT_HOURS_START": " "})
    assert defaults.workers == 1 and defaults.alert_hours == (time(7, 30), time(17, 0))


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("DOITHOAI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("WEBHOOK_LISTEN", "127.0.0.1:0")
    for name in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "WEB_CHAT", "WORKERS", "WEBHOOK_URL"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_x5_doithoai_says_which_variable_to_fix_and_exits_2(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    environment.setenv("TELEGRAM_BOT_TOKEN", SECRET)
    status = main(["run"])
    out, err = capsys.readouterr()
    assert status == 2
    assert err.strip().splitlines() == [
        "Lỗi: Biến môi trường TELEGRAM_BOT_TOKEN chưa đúng: cần mã bot do @BotFather cấp, dạng "
        "123456789:ABCdef… (chỉ chữ, số, dấu - và _, không có dấu cách). "
        "Sửa biến này rồi chạy lại."
    ]
    assert "secret" not in out + err and "Traceback" not in err


def test_x5_several_workers_with_telegram_and_no_webhook_is_said_before_anything_starts(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only one process may poll a token: ``WORKERS=2`` with Telegram needs the webhook."""
    from bot.cli import main

    environment.setenv("TELEGRAM_BOT_TOKEN", "123456:AAE_token")
    environment.setenv("WORKERS", "2")
    status = main(["run"])
    err = capsys.readouterr().err
    assert status == 2
    assert "Biến môi trường WORKERS chưa đúng: cần đặt thêm WEBHOOK_URL và WEBHOOK_SECRET" in err
    assert "Traceback" not in err and "AAE_token" not in err


@pytest.mark.parametrize("url", ["mysql://ward:pw@db/doithoai", "not a url", "postgres//host/db"])
def test_x5_a_database_url_that_cannot_be_one_is_named(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    from bot.cli import main

    environment.setenv("DATABASE_URL", url)
    status = main(["db", "upgrade"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("Lỗi: Biến môi trường DATABASE_URL chưa đúng: cần một địa chỉ")
    assert "Traceback" not in err and "pw" not in err


def test_x5_a_database_out_of_reach_is_said_with_its_reason_and_no_password(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """PostgreSQL not listening, or a SQLite file whose folder cannot be made: exit status 69
    (as for an address in use), the address with its password hidden, the driver's reason."""
    import socket

    from bot.cli import main

    with socket.socket() as probe:  # a port where nothing listens once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment.setenv("DATABASE_URL", f"postgresql://ward:topsecret@127.0.0.1:{port}/doithoai")
    status = main(["run"])
    err = capsys.readouterr().err
    assert status == 69
    assert err.startswith(
        f"Lỗi: Không kết nối được cơ sở dữ liệu postgresql://ward:***@127.0.0.1:{port}/doithoai ("
    )
    assert "refused" in err and "Hãy kiểm tra DATABASE_URL" in err
    assert "topsecret" not in err and "Traceback" not in err and len(err.splitlines()) == 1

    a_file = tmp_path / "a-file"
    a_file.write_text("")
    environment.setenv("DATABASE_URL", f"sqlite:///{a_file}/data/doithoai.sqlite3")
    status = main(["db", "upgrade"])
    err = capsys.readouterr().err
    assert status == 69
    assert err.startswith(f"Lỗi: Không kết nối được cơ sở dữ liệu sqlite:///{a_file}/data/")
    assert "Traceback" not in err


def test_x5_a_postgresql_password_refused_is_said_as_such(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy.engine import make_url

    from bot.cli import main
    from tests.conftest import postgres_url

    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL: set DOITHOAI_TEST_POSTGRES_URL (CI does)")
    wrong = make_url(url).set(password="not-the-password")
    environment.setenv("DATABASE_URL", wrong.render_as_string(hide_password=False))
    status = main(["db", "upgrade"])
    err = capsys.readouterr().err
    assert status == 69
    assert "password authentication failed" in err and "not-the-password" not in err
