"""``doithoai nlp ward|date|group``: one item per line in, one JSON object per line out, loaded
once and streamed (issue 11, item 5). In process: ``main(argv)`` with standard input replaced."""

from __future__ import annotations

import io
import json
import time
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


@pytest.mark.parametrize("command", ["ward", "date"])
def test_c9_nlp_commands_stream_thousands_of_lines_a_second(monkeypatch, capsys, command) -> None:
    samples = (
        [text for text, _ in OLD_TYPED] + CURRENT_SAI_GON
        if command == "ward"
        else ["4/12", "04/12/2026", "thứ 6 tuần này", "thứ sáu tuần sau", "mai", "8h", "11h30"]
    )
    lines = [samples[n % len(samples)] for n in range(20_000)]
    argv = ["nlp", command] + (["--today", "2026-12-30"] if command == "date" else [])
    run(monkeypatch, capsys, argv, samples[:1])  # loading is once per process, not per line
    started = time.perf_counter()
    out = run(monkeypatch, capsys, argv, lines)
    rate = len(lines) / (time.perf_counter() - started)
    print(f"\ndoithoai nlp {command}: {rate:,.0f} lines/s ({len(lines)} lines)")
    assert len(out) == len(lines)
    assert rate >= 2_000


def test_c9_nlp_group_reads_about_a_thousand_petitions_a_cpu_second(monkeypatch, capsys) -> None:
    """No restoration, no CRF: reading, vectors, groups and titles of 2,000 synthetic
    petitions (benchmarks/petition_grouping.py) in CPU time, the machine may be shared."""
    from benchmarks.petition_grouping import Generator, pairwise

    texts, issues = Generator(11).petitions(2_000)
    run(monkeypatch, capsys, ["nlp", "group"], ["1|Đường Lê Lợi ngập", "2|duong le loi ngap"])
    started = time.process_time()
    out = run(monkeypatch, capsys, ["nlp", "group"], [f"{n}|{t}" for n, t in enumerate(texts)])
    rate = len(texts) / (time.process_time() - started)
    precision, recall = pairwise([[int(pid) for pid in g["ids"]] for g in out], issues)
    print(
        f"\ndoithoai nlp group: {rate:,.0f} lines per CPU second ({len(texts)} lines);"
        f" pairwise precision {precision:.3f}, recall {recall:.3f} (synthetic issues)"
    )
    assert rate >= 600  # about 1,300 on one core; ~440 with restoration and underthesea
    # a sanity check (the goal is on the labelled held-out set): with restoration and
    # underthesea this input gave 0.891 / 0.975, now about 0.876 / 0.976
    assert precision >= 0.85 and recall >= 0.95
