"""PostgreSQL ``LISTEN``: wake a waiting task when another process says something happened
(issue 12: a worker queued a reply, the elected outbox sender sends it at once).

:class:`Listener` holds a connection of its own in autocommit mode, ``LISTEN``s on one channel
and waits for notifications in a thread (psycopg's ``notifies`` with a timeout, so stopping
takes at most that long); each notification calls ``on_notify`` (or ``on_payload`` with its
payload: the web chat's chat id) in that thread (the caller hands it to its event loop). A
lost connection is opened again after a pause. On SQLite (one
process) there is nothing to listen to: :meth:`Listener.start` does nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)


class Listener:
    def __init__(
        self,
        engine: Engine,
        channel: str,
        on_notify: Callable[[], None],
        *,
        poll_seconds: float = 0.5,
        reconnect_seconds: float = 1.0,
        on_payload: Callable[[str], None] | None = None,
    ) -> None:
        if not channel.isidentifier():
            raise ValueError("a LISTEN channel is a plain identifier")
        self._engine = engine
        self._channel = channel
        self._on_notify = on_notify
        # Given: each notification's payload goes here instead (``on_notify`` is then called
        # only when listening begins, for what may have been missed before).
        self._on_payload = on_payload
        self._poll = poll_seconds
        self._reconnect = reconnect_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while LISTEN is in effect (tests wait for it)
        self.received = 0

    @property
    def running(self) -> bool:
        """Started and not stopped (whether LISTEN is in effect at this moment or not)."""
        return self._thread is not None

    @property
    def supported(self) -> bool:
        return self._engine.dialect.name == "postgresql"

    def start(self) -> None:
        if not self.supported or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"listen-{self._channel}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop listening; returns within about ``poll_seconds``."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout=self._poll + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as error:
                log.warning("LISTEN %s lost: %s", self._channel, type(error).__name__)
            finally:
                self.listening.clear()
            self._stop.wait(self._reconnect)

    def _listen(self) -> None:
        with self._engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(text(f"LISTEN {self._channel}"))
            driver = connection.connection.driver_connection
            assert driver is not None
            self.listening.set()
            # Something may have been queued before LISTEN took effect: look once.
            self._on_notify()
            try:
                while not self._stop.is_set():
                    for notification in driver.notifies(timeout=self._poll):
                        self.received += 1
                        if self._on_payload is not None:
                            self._on_payload(notification.payload)
                        else:
                            self._on_notify()
            except BaseException:
                connection.invalidate()
                raise
