"""The heartbeat: while a call is analysed, its claim's lease is renewed, so a run on another host (which
cannot see whether our process lives) takes a claim over only after its holder stopped renewing it."""

from __future__ import annotations

import logging
import threading

from pipeline.store.database import Store
from pipeline.store.records import Owner

log = logging.getLogger(__name__)
BEATS_PER_LEASE = 3  # renew three times per lease: one late beat never lets a live claim lapse


class LeaseKeeper:
    """A thread that renews ``owner``'s leases on the calls it holds, every ``lease_s / BEATS_PER_LEASE``,
    through its own store connection (a SQLite connection belongs to one thread)."""

    def __init__(self, db: str, owner: Owner, lease_s: float):
        self.db, self.owner, self.lease_s = db, owner, lease_s
        self._held: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease-keeper", daemon=True)
        self._thread.start()

    def hold(self, call_id: str) -> None:
        with self._lock:
            self._held.add(call_id)

    def drop(self, call_id: str) -> None:
        with self._lock:
            self._held.discard(call_id)

    def _beat(self) -> None:
        store: Store | None = None
        try:
            while not self._stop.wait(self.lease_s / BEATS_PER_LEASE):
                with self._lock:
                    held = list(self._held)
                if not held:
                    continue
                try:
                    store = store or Store(self.db, create=False)
                    store.renew(held, self.owner, self.lease_s)
                except Exception as error:  # noqa: BLE001 - a missed beat is retried; the lease has slack
                    log.warning("could not renew leases: %s", error)
        finally:
            if store is not None:
                store.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
