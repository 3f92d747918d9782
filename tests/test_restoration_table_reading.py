"""Q4: the restoration table is read back as it was written (issue 12: it is read a group of
lines at a time, not line by line, for a quicker first restoration in a new process)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from nlp.restoration import (
    TABLE,
    Counts,
    Model,
    Params,
    Place,
    decode,
    decode_with_dicts,
    model,
    read_table,
    write_table,
)


def _line_by_line(path: Path) -> Counts:
    """The plain reading of the format, line by line: the reference."""
    counts = Counts()
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            kind, key, *rest = line.rstrip("\n").split("\t")
            if kind == "1":
                counts.uni[key] = float(rest[0])
            elif kind in ("2", "3", "4"):
                table = {"2": counts.bi, "3": counts.tri, "4": counts.quad}[kind]
                table[tuple(key.split(" "))] = float(rest[0])  # type: ignore[index]
    return counts


def _written(path: Path) -> Counts:
    counts = Counts()
    counts.add_run(["xã", "phường", "đường", "bị", "ngập"], 1.5)
    counts.add_run(["đường", "bị", "ngập", "nước"], 2.0)
    counts.uni["<num>"] = 12345.0
    write_table(path, counts, Params(uncertain_below=0.8), {"built": "test"}, frozenset({"duong"}))
    return counts


def test_q4_a_written_table_reads_back_the_same_in_the_same_order(tmp_path: Path) -> None:
    path = tmp_path / "table.tsv.gz"
    _written(path)
    model = read_table(path)
    expected = _line_by_line(path)
    assert list(model.lm.uni.items()) == list(expected.uni.items())
    assert list(model.lm._bi.items()) == list(expected.bi.items())
    assert list(model.lm._tri.items()) == list(expected.tri.items())
    assert list(model.lm._quad.items()) == list(expected.quad.items())
    assert ("bị", "ngập", "nước") in model.lm._tri
    assert model.params.uncertain_below == 0.8
    assert model.meta == {"built": "test"}
    assert model.safe == frozenset({"duong"})


def test_q4_each_syllable_and_count_of_the_table_is_held_once(
    counted_restoration_model: Model,
) -> None:
    """Issue 12 (a worker under 250 MB): the n-grams share their syllables' string objects,
    equal counts one float, and a context the tuple of its n-gram, instead of an object for
    each (310 MB against 100)."""
    lm = counted_restoration_model.lm
    held: dict[object, object] = {}
    for table in (lm.uni, lm._bi, lm._tri, lm._quad):
        for key, value in table.items():
            for part in key if isinstance(key, tuple) else (key,):
                assert held.setdefault(part, part) is part
            assert held.setdefault(value, value) is value
    # A context's key is the n-gram of the order below, the same tuple.
    for contexts, below in ((lm._tri_ctx, lm._bi), (lm._quad_ctx, lm._tri)):
        stored = dict(zip(below, below, strict=True))
        assert all(key is stored[key] for key in contexts if key in stored)
        assert sum(key in stored for key in contexts) > 0.9 * len(contexts)


def test_q4_the_shipped_table_has_every_line_read(counted_restoration_model: Model) -> None:
    lm = counted_restoration_model.lm
    data = gzip.decompress(TABLE.read_bytes())
    for order, table in enumerate((lm.uni, lm._bi, lm._tri, lm._quad), start=1):
        lines = data.count(f"\n{order}\t".encode())
        assert len(table) == lines > 5_000
    # two of its 4-grams, as written
    assert lm._quad[("đường", "<num>", "a", "đang")] == 2.5
    assert lm._quad[("ừ", "đúng", "rồi", "</s>")] == 2.5


def test_x3_q4_the_bots_model_keeps_its_counts_as_arrays_only(
    counted_restoration_model: Model,
) -> None:
    """Issue 12 (a worker under 250 MB): the model the bot decodes with drops its dictionaries
    of counts once the lattice's arrays agree with them. It restores what the model with its
    counts restores; a candidate listed twice is one candidate; the dictionary decoder refuses
    it rather than read empty counts."""
    shipped, bots = counted_restoration_model, model()
    assert bots.lm.counts_dropped and not shipped.lm.counts_dropped
    assert not hasattr(bots.lm, "_quad") and not hasattr(bots.lm, "_tri_ctx")
    with pytest.raises(AttributeError):
        bots.lm.prob("đường", "bị", "ngập")
    places = [
        Place(("duong", "đường", "dương"), {"duong": -0.7}),
        Place(("bi", "bị", "bí")),
        Place(("ngap", "ngập", "ngáp")),
        Place(("nuoc", "nước", "nuốc")),
    ]
    expected = decode_with_dicts(places, shipped)
    assert [c.best for c in expected] == ["đường", "bị", "ngập", "nước"]
    got = decode(places, bots)
    assert [c.best for c in got] == [c.best for c in expected]
    for mine, theirs in zip(got, expected, strict=True):
        assert [k for k, _ in mine.ranked] == [k for k, _ in theirs.ranked]
        assert [v for _, v in mine.ranked] == pytest.approx([v for _, v in theirs.ranked])
    twice = [Place((*p.options, p.options[1]), p.bonus) for p in places]
    assert decode(twice, bots) == decode(places, bots)
    with pytest.raises(ValueError, match="arrays only"):
        decode_with_dicts(places, bots)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("3\tđường bị\t2", "order 3"),  # a trigram with two syllables
        ("5\ta b c d e\t1", "no known kind"),
        ("2\tđường bị ngập\t2", "order 2"),
    ],
)
def test_q4_a_damaged_table_is_refused_not_misread(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "table.tsv.gz"
    _written(path)
    with gzip.open(path, "rt", encoding="utf-8") as source:
        lines = source.read().splitlines()
    lines.append(line)
    lines.sort(key=lambda text: text[:1])  # as written: the headers, then order 1 to 4
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=message):
        read_table(path)


def test_x3_the_memory_freed_by_reading_the_table_is_given_back_on_glibc() -> None:
    """Issue 12: the C library is asked to return what reading the table freed (glibc's
    malloc_trim, found on this machine; elsewhere nothing is asked)."""
    import platform

    from nlp.heap import _malloc_trim, give_back_freed_memory

    if platform.libc_ver()[0] == "glibc":
        assert _malloc_trim() is not None
    give_back_freed_memory()
