"""Write ``tests/data/nlp_check_reference.jsonl.gz`` again after the restoration table changed.

The reference is what the PLAIN decoder (``nlp/restoration.py`` as of commit 8c047a2, before the
faster forward–backward) prints with the CURRENT table, for the same input lines; the faster
decoder must match it (``tests/test_nlp_check_reference.py``). Run from the repository root:

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
        (tree / "nlp" / "restoration.py").write_text(plain, encoding="utf-8")
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
