"""A server started on an alias (``production``) keeps serving whatever that alias names now.

Why: a promotion at night, ``sleepy rollback`` in another shell, or the dashboard's rollback button
moves the alias in the registry; a server that went on serving the release it was started with would
make a rollback look done while the bad weights kept answering. A small thread polls the alias (one
JSON read), loads the new release beside the old one, and swaps it in between two batches; requests
in flight finish on the weights they started on. A release that fails to load is logged and skipped
(the old one keeps serving) until the alias moves again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sleepy.adapters.lora import RoutedModel, load_release_model

log = logging.getLogger("sleepy.serve")


class ReleaseFollower:
    def __init__(self, registry, alias: str, device: str, current: RoutedModel,
                 swap: Callable[[RoutedModel], None], interval_s: float = 2.0) -> None:
        self.registry, self.alias, self.device = registry, alias, device
        self.swap = swap
        self.interval_s = interval_s
        self.serving = current.name  # a release id, or "base"
        self.base_model = current.lm.path if current.release is None else current.release.base_model
        self.failed: str | None = None  # a release that would not load: not retried until the alias moves on
        self.swaps = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """One poll: load and swap in the release the alias names now, if it changed. True when swapped."""
        with self._lock:
            try:
                target = self.registry.resolve(self.alias)
            except Exception as exc:  # a registry being written or removed: try again at the next poll
                log.warning("cannot read alias %s: %s", self.alias, exc)
                return False
            if target in (self.serving, self.failed):
                return False
            try:
                routed = load_release_model(self.registry.get(target), self.base_model, self.device)
            except Exception as exc:
                log.error("alias %s moved to %s, which does not load (still serving %s): %s",
                          self.alias, target, self.serving, exc)
                self.failed = target
                return False
            self.swap(routed)
            log.warning("alias %s moved: now serving %s (was %s)", self.alias, target, self.serving)
            self.serving, self.failed = target, None
            self.swaps += 1
            return True

    def start(self) -> ReleaseFollower:
        self._thread = threading.Thread(target=self._loop, name="sleepy-follow", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """End the polling thread, waiting out a load in progress so a half-loaded release is not left
        holding memory after the server is gone."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check()
