"""Issue 12 (a worker's first petition): the language layer's tables are built once whichever
thread asks first, and a resident who begins a petition starts building them in a thread of
its own, so that the turn judging the text (in the thread of everyone's turns) does not."""

from __future__ import annotations

import threading
import time

from nlp import loading


def test_x3_a_table_two_threads_ask_for_at_once_is_built_once() -> None:
    builds: list[int] = []
    asked = threading.Barrier(3)

    @loading.built_once
    def table() -> dict[str, int]:
        builds.append(1)
        time.sleep(0.2)  # long enough for the other threads to ask meanwhile
        return {"built": len(builds)}

    got: list[dict[str, int]] = []

    def ask() -> None:
        asked.wait()
        got.append(table())

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    asked.wait()
    got.append(table())
    for thread in threads:
        thread.join()
    assert builds == [1]
    assert len(got) == 3 and all(value is got[0] for value in got)
