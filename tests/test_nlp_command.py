"""``doithoai nlp ward|date|group``: one item per line in, one JSON object per line out, loaded
once and streamed (issue 11, item 5). In process: ``main(argv)`` with standard input replaced."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from bot.cli import main
from tests.labelled_petitions import HELD_OUT
from tests.test_nlp_places import CURRENT_SAI_GON, OLD_TYPED


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], lines
) -> list[dict[str, Any]]:
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    assert main(argv) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_b1_nlp_ward_prints_the_candidates_best_first(monkeypatch, capsys) -> None:
    out = run(
        monkeypatch,
        capsys,
        ["nlp", "ward"],
        ["Phường Sài Gòn, Thành phố Hồ Chí Minh", "p4 q3", "Phường 7, Quận 3", "", "Xã Tân Thành"],
    )
    assert len(out) == 5  # one line out per line in, empty ones included
    assert out[0] == {
        "input": "Phường Sài Gòn, Thành phố Hồ Chí Minh",
        "status": "current",
        "old": "",
        "candidates": [
            {
                "code": "26740",
                "name": "Phường Sài Gòn",
                "province_code": "79",
                "province": "Thành phố Hồ Chí Minh",
            }
        ],
    }
    assert out[1]["status"] == "old" and out[1]["old"] == "Phường 4, Quận 3"
    assert {c["name"] for c in out[1]["candidates"]} == {"Phường Bàn Cờ", "Phường Xuân Hòa"}
    assert out[2] == {
        "input": "Phường 7, Quận 3",
        "status": "old_unknown",
        "old": "Phường 7, Quận 3",
        "candidates": [],
    }
    assert out[3]["status"] == "none"
    assert out[4]["candidates"][0]["name"] == "Xã Tân Thành" and len(out[4]["candidates"]) > 1


def test_p1_nlp_date_reads_relative_to_the_given_today(monkeypatch, capsys) -> None:
    out = run(
        monkeypatch,
        capsys,
        ["nlp", "date", "--today", "2026-12-30"],
        ["4/1", "thứ 6 tuần này", "11h30", "thu sau tuan sau luc 2 gio chieu", "2 giờ", "abc"],
    )
    assert out[0] == {
        "input": "4/1",
        "date": "2027-01-04",
        "time": None,
        "inferred": True,
        "error": None,
    }
    assert out[1]["date"] == "2027-01-01"
    assert out[2]["time"] == "11:30" and out[2]["date"] is None
    assert (out[3]["date"], out[3]["time"]) == ("2027-01-08", "14:00")
    assert out[4]["error"] == "ambiguous_hour" and out[4]["date"] is None
    assert out[5]["error"] == "unknown"


def test_p1_nlp_date_refuses_a_bad_today(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("mai\n"))
    with pytest.raises(SystemExit) as stopped:
        main(["nlp", "date", "--today", "30/12"])
    assert stopped.value.code == 2


def test_p2_nlp_group_prints_one_line_per_group_with_ids_and_title(monkeypatch, capsys) -> None:
    lines = [f"YK-{n}|{text}" for n, (_, text) in enumerate(HELD_OUT)]
    lines.insert(3, "a line without an id")
    out = run(monkeypatch, capsys, ["nlp", "group"], lines)
    assert out[0] == {"line": 4, "error": "expected ID|text"}
    groups = out[1:]
    assert [g["size"] for g in groups] == sorted((g["size"] for g in groups), reverse=True)
    issue = {f"YK-{n}": name for n, (name, _) in enumerate(HELD_OUT)}
    calmette = [g for g in groups if issue[g["ids"][0]] == "thieu-den-hem-15-calmette"]
    assert calmette and calmette[0]["title"] == "Hẻm 15 Calmette thiếu đèn chiếu sáng"
    assert all(g["size"] == len(g["ids"]) >= 2 and g["title"] for g in groups)


@pytest.mark.parametrize("command", ["ward", "date", "check"])
def test_c9_nlp_commands_stream_one_answer_per_line(monkeypatch, capsys, command) -> None:
    """Every line gets its own JSON answer, in order (the rates are printed by
    benchmarks/nlp_streaming.py, not timed here)."""
    samples = {
        "ward": [text for text, _ in OLD_TYPED] + CURRENT_SAI_GON,
        "date": ["4/12", "04/12/2026", "thứ 6 tuần này", "thứ sáu tuần sau", "mai", "8h", "11h30"],
        "check": ["toi muon hoi ve den duong", "Tôi muốn hỏi về đèn đường ở hẻm 12."],
    }[command]
    lines = [samples[n % len(samples)] for n in range(2_000)]
    argv = ["nlp", command] + (["--today", "2026-12-30"] if command == "date" else [])
    out = run(monkeypatch, capsys, argv, lines)
    assert [answer["input"] for answer in out] == lines


def test_q4_nlp_check_prints_the_verdict_suggestion_and_uncertain_words(monkeypatch, capsys):
    stripped, accented = run(
        monkeypatch,
        capsys,
        ["nlp", "check"],
        ["toi muon hoi ve den duong", "Tôi muốn hỏi về đèn đường ở hẻm 12."],
    )
    assert stripped["verdict"] == "no_diacritics" and stripped["refused"] is True
    assert stripped["suggestion"] is None or isinstance(stripped["uncertain"], list)
    assert accented == {
        "input": "Tôi muốn hỏi về đèn đường ở hẻm 12.",
        "verdict": "ok",
        "refused": False,
        "suggestion": None,
        "uncertain": [],
    }


def test_c9_nlp_check_with_workers_answers_in_input_order(monkeypatch, capsys) -> None:
    """``--workers 2``: two forked processes check the lines; the answers are those of one
    process, line for line, in input order."""
    samples = [
        "toi muon hoi ve den duong",
        "Tôi muốn hỏi về đèn đường ở hẻm 12.",
        "nha em o hem 45/7, P.7 Q.3 cu, k co den duong",
        "ddeef nghij suwra chuwax ddwowngf",
        "",
        "Duong Le Loi bi ngap sau moi khi mua lon, de nghi phuong nao vet cong.",
    ]
    lines = [f"{samples[n % len(samples)]} {n}" for n in range(36)]
    one = run(monkeypatch, capsys, ["nlp", "check"], lines)
    two = run(monkeypatch, capsys, ["nlp", "check", "--workers", "2"], lines)
    assert [answer["input"] for answer in two] == lines
    assert two == one


def test_c9_nlp_check_with_two_workers_prints_exactly_what_one_prints(monkeypatch, capsys):
    """A few hundred lines piped at once go to the two workers in chunks (bot/nlp_check.py):
    the output is byte for byte that of one process, in input order."""
    from benchmarks.nlp_streaming import check_lines

    lines = [*check_lines(300), "", "Tôi muốn hỏi về đèn đường ở hẻm 12.", "ddeef nghij"]
    outputs = []
    for argv in (["nlp", "check"], ["nlp", "check", "--workers", "2"]):
        monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
        assert main(argv) == 0
        outputs.append(capsys.readouterr().out)
    one, two = outputs
    assert [json.loads(line)["input"] for line in two.splitlines()] == lines
    assert two == one


def test_c9_nlp_check_with_workers_answers_a_typed_line_before_the_next_is_sent(
    tmp_path,
) -> None:
    """An interactive tool keeps the pipe open: each line it writes is answered before it
    writes the next (the workers are not waiting for a chunk to fill)."""
    import os
    import subprocess
    import sys
    import threading

    env = {**os.environ, "DOITHOAI_DATA_DIR": str(tmp_path), "PYTHONIOENCODING": "utf-8"}
    env.pop("DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "nlp", "check", "--workers", "2"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env=env,
    )
    killer = threading.Timer(120, process.kill)  # a hang fails the test instead of blocking
    killer.start()
    try:
        assert process.stdin is not None and process.stdout is not None
        for line in ("toi muon hoi ve den duong", "Tôi muốn hỏi về đèn đường.", "mat nuoc"):
            process.stdin.write(line + "\n")
            process.stdin.flush()
            answer = process.stdout.readline()
            assert answer, process.stderr.read() if process.stderr else ""
            assert json.loads(answer)["input"] == line
        process.stdin.close()
        assert process.stdout.read() == ""
        assert process.wait(timeout=60) == 0
    finally:
        killer.cancel()
        process.kill()
        process.wait()


def test_c9_nlp_check_with_workers_reads_ahead_a_bounded_amount_and_stops_early() -> None:
    """An endless input: the reader thread stops when what waits and what the workers hold is
    full (``_Feed``), and a caller leaving after a few answers closes the pool without hanging
    on the input still open."""
    import itertools
    import threading

    from bot.nlp_check import MAX_CHUNK, check_stream

    read = itertools.count()

    def endless():
        for n in read:
            yield f"mat nuoc {n}"

    answers = check_stream(endless(), workers=2)
    first = [next(answers)["input"] for _ in range(300)]
    assert first == [f"mat nuoc {n}" for n in range(300)]
    closing = threading.Thread(target=answers.close)
    closing.start()
    closing.join(timeout=60)
    assert not closing.is_alive()
    # read: the chunks yielded (300 lines and the rest of the last chunk), at most 4 x 2
    # chunks with the workers, 4 x MAX_CHUNK x 2 lines waiting, a line or two being put
    assert next(read) <= 300 + MAX_CHUNK + 2 * (4 * 2 * MAX_CHUNK) + 2


def test_p2_nlp_group_on_synthetic_petitions_keeps_issues_apart(monkeypatch, capsys) -> None:
    """A sanity check of the groups of 2,000 synthetic petitions (benchmarks/petition_grouping.py);
    the goal is on the labelled held-out set (tests/test_nlp_similarity.py)."""
    from benchmarks.petition_grouping import Generator, pairwise

    texts, issues = Generator(11).petitions(2_000)
    out = run(monkeypatch, capsys, ["nlp", "group"], [f"{n}|{t}" for n, t in enumerate(texts)])
    precision, recall = pairwise([[int(pid) for pid in g["ids"]] for g in out], issues)
    print(f"\ndoithoai nlp group, synthetic: precision {precision:.3f}, recall {recall:.3f}")
    assert precision >= 0.85 and recall >= 0.95
