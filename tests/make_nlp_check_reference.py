"""Write ``tests/data/nlp_check_reference.jsonl.gz`` again after the restoration table changed.

The reference is what the PLAIN decoder (``nlp/restoration.py`` as of commit 8c047a2, before the
faster forward–backward; with today's rule for ties, ``restoration.rank``) prints with the
CURRENT table (read with today's ``Params``), for the same input lines; the faster decoder must
match it (``tests/test_nlp_check_reference.py``). Run from the repository root:

    .venv/bin/python -m tests.make_nlp_check_reference

It copies the source tree to a temporary folder, puts the plain decoder in place there and
decodes each line in a subprocess, so nothing of the working tree changes but the reference.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PLAIN_DECODER_COMMIT = "8c047a2"
ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "data" / "nlp_check_reference.jsonl.gz"

DECODE = r"""
import gzip, json, sys
from bot.nlp_check import check_line
from nlp.diacritics import restore
out = []
for line in gzip.open(sys.argv[1], "rt", encoding="utf-8"):
    text = json.loads(line)["input"]
    restored = restore(text)
    words = None if restored is None else [
        [w.best, round(w.confidence, 12), w.uncertain, list(w.alternatives)]
        for w in restored.words
    ]
    out.append({"input": text, "check": check_line(text), "words": words})
with gzip.open(sys.argv[2], "wt", encoding="utf-8") as target:
    for case in out:
        target.write(json.dumps(case, ensure_ascii=False) + "\n")
"""


#: How the plain decoder ranked the candidates: by exact posterior, then by syllable.
PLAIN_RANKING = "key=lambda kv: (-kv[1], kv[0])"


def _with_tie_rule(plain: str) -> str:
    """The plain decoder with the tie rule of ``nlp.restoration.rank`` (posteriors equal to
    ``TIE_DIGITS`` significant digits are ranked by the syllable), so that the order of two
    candidates the model cannot tell apart does not come from the rounding of its sums."""
    from nlp.restoration import TIE_DIGITS

    assert plain.count(PLAIN_RANKING) == 1, "the plain decoder's ranking has moved"
    tie_rule = f'key=lambda kv: (-float(f"{{kv[1]:.{TIE_DIGITS - 1}e}}"), kv[0])'
    return plain.replace(PLAIN_RANKING, tie_rule)


_PARAMS_START = "@dataclass(frozen=True, slots=True)\nclass Params:"
_PARAMS_END = "\n\n\n@dataclass(frozen=True, slots=True)\nclass Model:"


def _with_current_params(plain: str) -> str:
    """The plain decoder with today's ``Params`` (the same fields and more: the word layer's
    bonuses, which ``nlp.diacritics`` puts into the emissions of the places both decoders
    read), so that it reads today's table."""
    current = (ROOT / "nlp" / "restoration.py").read_text("utf-8")

    def block(source: str) -> tuple[int, int]:
        assert source.count(_PARAMS_START) == 1 and source.count(_PARAMS_END) == 1
        return source.index(_PARAMS_START), source.index(_PARAMS_END)

    start, end = block(current)
    plain_start, plain_end = block(plain)
    return plain[:plain_start] + current[start:end] + plain[plain_end:]


def main() -> None:
    plain = subprocess.run(
        ["git", "show", f"{PLAIN_DECODER_COMMIT}:nlp/restoration.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.TemporaryDirectory() as scratch:
        tree = Path(scratch) / "tree"
        for part in ("bot", "handlers", "nlp", "procedure", "storage", "texts"):
            shutil.copytree(ROOT / part, tree / part)
        decoder = _with_tie_rule(_with_current_params(plain))
        (tree / "nlp" / "restoration.py").write_text(decoder, encoding="utf-8")
        target = Path(scratch) / "reference.jsonl.gz"
        subprocess.run(
            [sys.executable, "-c", DECODE, str(REFERENCE), str(target)],
            cwd=tree,
            check=True,
            env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        )
        shutil.copyfile(target, REFERENCE)
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    main()
