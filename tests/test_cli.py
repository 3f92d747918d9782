"""The ``doithoai`` command as an administrator uses it (X1, C8): its ``main(argv)`` in this
process, against a real database; one test starts the real ``doithoai run`` process."""

from __future__ import annotations

import contextlib
import gc
import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import pytest

from bot import cli


@dataclass(frozen=True)
class Result:
    """What the command did: as ``subprocess.run`` reports it."""

    returncode: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def command_environment(tmp_path: Path) -> Iterator[None]:
    """The environment a command started in ``tmp_path`` sees; the logging it configures is
    undone afterwards."""
    env = {**os.environ, "DOITHOAI_DATA_DIR": str(tmp_path)}
    for name in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN"):
        env.pop(name, None)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with mock.patch.dict(os.environ, env, clear=True):
            yield
    finally:
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
        root.setLevel(level)


def run(tmp_path: Path, *args: str, stdin: str | None = None) -> Result:
    """``doithoai *args`` through ``bot.cli.main``, with its own standard streams."""
    out, err = io.StringIO(), io.StringIO()
    with (
        command_environment(tmp_path),
        mock.patch.object(sys, "stdin", io.StringIO(stdin or "")),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        try:
            code = cli.main(list(args))
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return Result(code, out.getvalue(), err.getvalue())


def first_token(result: Result) -> str:
    return result.stdout.splitlines()[0].split()[0]


def test_x1_cli_add_working_days_done_means(tmp_path: Path) -> None:
    five = run(tmp_path, "workdays", "add", "2025-12-31", "5")
    assert five.returncode == 0, five.stderr
    assert first_token(five) == "2026-01-09"
    ten = run(tmp_path, "workdays", "add", "2025-12-31", "10")
    assert first_token(ten) == "2026-01-15"
    # The explanation, in Vietnamese, names the swap and its source.
    assert "Thứ Sáu, 02/01/2026: ngày nghỉ theo thông báo chính thức" in ten.stdout
    assert "12729/VPCP-KGVX" in ten.stdout


def test_x1_cli_add_across_tet(tmp_path: Path) -> None:
    result = run(tmp_path, "workdays", "add", "2026-02-10", "10")
    assert first_token(result) == "2026-03-03"
    assert "Tết Nguyên Đán" in result.stdout


def test_p4_cli_latest_notice(tmp_path: Path) -> None:
    result = run(tmp_path, "workdays", "latest-notice", "2026-03-16")
    assert result.returncode == 0
    assert first_token(result) == "2026-03-08"
    assert "Thứ Sáu, 06/03/2026" in result.stdout  # the last working day before it


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("workdays", "add", "2026-02-30", "5"), "không phải một ngày hợp lệ"),
        (("workdays", "add", "hôm nay", "5"), "không phải một ngày hợp lệ"),
        (("workdays", "add", "2026-02-10", "mười"), "không phải số ngày làm việc hợp lệ"),
        (("workdays", "add", "2026-02-10", "-3"), "không phải số ngày làm việc hợp lệ"),
        (("workdays", "latest-notice", "16/13/2026"), "không phải một ngày hợp lệ"),
        (("workdays", "add"), "Lệnh chưa đúng cú pháp"),
    ],
)
def test_x1_cli_bad_input_gets_one_vietnamese_line_and_exit_2(tmp_path: Path, args, expected):
    result = run(tmp_path, *args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: ") and expected in lines[0]
    assert "Traceback" not in result.stderr


def test_x1_cli_dd_mm_yyyy_is_accepted(tmp_path: Path) -> None:
    assert first_token(run(tmp_path, "workdays", "add", "31/12/2025", "5")) == "2026-01-09"


def test_x1_administrators_add_and_remove_days_without_a_release(tmp_path: Path) -> None:
    before = run(tmp_path, "workdays", "add", "2026-12-23", "1")
    assert first_token(before) == "2026-12-24"
    added = run(
        tmp_path,
        "workdays",
        "override",
        "add",
        "2026-12-24",
        "off",
        "--name",
        "Nghỉ bù theo quyết định của UBND",
        "--source",
        "Quyết định 12/QĐ-UBND",
    )
    assert added.returncode == 0, added.stderr
    after = run(tmp_path, "workdays", "add", "2026-12-23", "1")
    assert first_token(after) == "2026-12-25"
    assert "Quyết định 12/QĐ-UBND" in after.stdout
    listed = run(tmp_path, "workdays", "override", "list")
    assert "Thứ Năm, 24/12/2026" in listed.stdout
    removed = run(tmp_path, "workdays", "override", "remove", "2026-12-24")
    assert removed.returncode == 0
    assert first_token(run(tmp_path, "workdays", "add", "2026-12-23", "1")) == "2026-12-24"
    missing = run(tmp_path, "workdays", "override", "remove", "2026-12-24")
    assert missing.returncode == 2 and "không có trong danh sách" in missing.stderr
    bad_kind = run(
        tmp_path,
        "workdays",
        "override",
        "add",
        "2026-12-24",
        "holiday",
        "--name",
        "x",
        "--source",
        "y",
    )
    assert bad_kind.returncode == 2


def test_x1_cli_check_and_between(tmp_path: Path) -> None:
    saturday = run(tmp_path, "workdays", "check", "2026-01-10")
    assert first_token(saturday) == "yes" and "ngày làm việc bù" in saturday.stdout
    assert first_token(run(tmp_path, "workdays", "check", "2026-11-24")) == "no"
    assert first_token(run(tmp_path, "workdays", "between", "2026-02-13", "2026-02-24")) == "2"


def test_c8_cli_imports_the_wards_of_a_province(tmp_path: Path) -> None:
    imported = run(tmp_path, "org", "import-province", "79")
    assert imported.returncode == 0, imported.stderr
    assert "168" in imported.stdout  # Ho Chi Minh City has 168 wards, communes, special zone
    again = run(tmp_path, "org", "import-province", "79")
    assert "thêm 0" in again.stdout
    listed = run(tmp_path, "org", "list", "--parent", "vn-79")
    assert len(listed.stdout.splitlines()) == 168
    assert "Phường Bến Thành" in listed.stdout
    unknown = run(tmp_path, "org", "import-province", "99")
    assert unknown.returncode == 2


def test_c7_chat_starts_the_console_chat(tmp_path: Path) -> None:
    run(tmp_path, "org", "import-province", "79")
    chat = run(tmp_path, "chat", stdin="/trogiup\n/phien\nBến Thành\n1\nxin chào\n/thoat\n")
    assert chat.returncode == 0, chat.stderr
    assert "/tracuu" in chat.stdout  # the help
    assert "Đã ghi nơi cư trú: Phường Bến Thành" in chat.stdout
    assert "chưa có buổi đối thoại sắp tới" in chat.stdout
    assert "Tạm biệt" in chat.stdout


def test_c7_chat_on_a_new_database_has_the_citys_wards_and_says_how_to_try_the_demo(
    tmp_path: Path,
) -> None:
    """A newcomer's ``doithoai chat`` before anything else: "which ward?" has an answer (as
    for ``doithoai run``, tests/test_first_try.py), and the demo's data is one command away."""
    chat = run(tmp_path, "chat", stdin="/phien\nBến Thành\n1\n/thoat\n")
    assert chat.returncode == 0, chat.stderr
    assert "Đã nhập Thành phố Hồ Chí Minh: thêm 168 phường, xã, đặc khu." in chat.stdout
    assert "doithoai demo seed" in chat.stdout
    assert "Đã ghi nơi cư trú: Phường Bến Thành" in chat.stdout
    again = run(tmp_path, "chat", stdin="/thoat\n")
    assert again.returncode == 0, again.stderr
    assert "Đã nhập" not in again.stdout and "demo seed" not in again.stdout


def test_c8_cli_db_upgrade_hides_passwords(tmp_path: Path) -> None:
    result = run(tmp_path, "db", "upgrade")
    assert result.returncode == 0
    assert "doithoai.sqlite3" in result.stdout


def test_p10_c1_demo_seed_then_the_yearly_report_writes_three_files(tmp_path: Path) -> None:
    """The demo's two years, its report and review; and its next session, announced on the day
    it is seeded, which a resident trying the demo can register for."""
    seeded = run(tmp_path, "demo", "seed", "--today", "2026-11-28")
    assert seeded.returncode == 0, seeded.stderr
    assert "9 buổi đối thoại" in seeded.stdout  # eight held, the next one announced
    from procedure.use_cases.residents import upcoming_sessions
    from storage.engine import make_engine
    from storage.unit_of_work import UnitOfWork
    from tests.conftest import at

    engine = make_engine(f"sqlite:///{tmp_path / 'doithoai.sqlite3'}")
    with UnitOfWork(engine) as uow:
        (upcoming,) = upcoming_sessions(uow, None, at("2026-11-28", "10:00"))
        # 15 working days after Saturday 28/11/2026: Friday 18/12/2026.
        assert upcoming.starts_at == at("2026-12-18", "08:00") and upcoming.state == "announced"
    engine.dispose()
    again = run(tmp_path, "demo", "seed", "--today", "2026-11-28")
    assert "không tạo thêm" in again.stdout
    out = tmp_path / "out"
    report = run(tmp_path, "baocao", "--year", "2026", "--org", "vn-79-26743", "--out", str(out))
    assert report.returncode == 0, report.stderr
    written = sorted(path.suffix for path in out.iterdir())
    assert written == [".docx", ".png", ".xlsx"]
    review = run(
        tmp_path, "tonghop", "--org", "vn-79-26743", "--from", "2026-01-01", "--to", "2026-11-28"
    )
    assert review.returncode == 0, review.stderr
    assert "Nguyễn Thái Học" in review.stdout and "<b>" not in review.stdout
    bad = run(tmp_path, "baocao", "--year", "hai nghìn", "--org", "vn-79-26743")
    assert bad.returncode == 2 and "không phải năm hợp lệ" in bad.stderr
    # The demo's residents are on Telegram: in the console their messages wait quietly.
    chat = run(tmp_path, "chat", stdin="/trogiup\n/phien\n/thoat\n")
    assert chat.returncode == 0, chat.stderr
    assert chat.stdout.count("đang chờ trong hàng đợi") == 1
    assert "failed" not in chat.stderr and "WARNING" not in chat.stderr


def test_c7_run_without_a_channel_serves_the_web_chat_and_prints_its_address(
    tmp_path: Path,
) -> None:
    import re
    import signal
    import urllib.request

    env = {
        **os.environ,
        "DOITHOAI_DATA_DIR": str(tmp_path),
        "PYTHONIOENCODING": "utf-8",
        "WEBHOOK_LISTEN": "127.0.0.1:0",
    }
    for name in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "WEB_CHAT"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # Ctrl-C as in a terminal, even when pytest itself was started in the background (where
        # the shell ignores SIGINT for it and its children).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        address = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert address is not None, (line, process.stderr.read() if process.poll() else "")
        assert "Trò chuyện trên web" in line
        # A new database has no ward: a first try gets Ho Chi Minh City's (tests/test_first_try.py)
        assert "Thành phố Hồ Chí Minh: thêm 168 phường, xã" in process.stdout.readline()
        with urllib.request.urlopen(address.group(0), timeout=10) as page:
            body = page.read().decode("utf-8")
        assert '<html lang="vi">' in body and 'role="log"' in body
    finally:
        process.send_signal(signal.SIGINT)
        try:
            status = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()  # never left running after a failed test
                process.wait()
    assert status == 0
    # The log of a first start: the migrations run, not alembic's setting up of its plugins.
    assert process.stderr is not None
    log = process.stderr.read()
    assert "Running upgrade  -> 0001" in log and "setup plugin" not in log, log


def test_c7_run_on_a_port_already_in_use_says_so_in_plain_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second ``doithoai run`` (or any program) on the port: a clear Vietnamese message and
    exit status 69, not a traceback."""
    import socket

    from bot.cli import main

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        monkeypatch.setenv("DOITHOAI_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("WEBHOOK_LISTEN", f"127.0.0.1:{port}")
        for name in ("DATABASE_URL", "TELEGRAM_BOT_TOKEN", "WEB_CHAT"):
            monkeypatch.delenv(name, raising=False)
        status = main(["run"])
    err = capsys.readouterr().err
    assert status == 69
    assert gc.isenabled()  # paused for the start (bot/cli.py), on again when the run ends
    assert f"Không mở được 127.0.0.1:{port}" in err and "đang dùng cổng này" in err
    assert "Traceback" not in err
