"""Extraction of one page under a time and memory bound, in a worker process.

A hostile or pathological page can hang lxml or trafilatura for minutes or eat gigabytes. Pages are
extracted in a small pool of worker processes with an address-space limit; a page that exceeds its
time is abandoned (the worker is replaced) and recorded as a failure, and the batch goes on.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime

from media_monitoring.extract import Extracted, extract_article

log = logging.getLogger(__name__)

EXTRACT_TIMEOUT_S = 20.0  # trafilatura takes ~30 ms on a news page; 20 s is a hung page
WORKER_MEMORY_BYTES = 2 * 2**30  # address-space cap per worker; a page needing more is hostile
WORKERS = 2  # one per core on the reference machine


class ExtractionFailed(Exception):
    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message


def _limit_memory(limit: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import trafilatura  # noqa: F401  (warm the worker once, not per page)


class BoundedExtractor:
    """Thread-safe: collect threads share one pool; a timeout rebuilds it for everyone."""

    def __init__(self, workers: int = WORKERS, timeout_s: float = EXTRACT_TIMEOUT_S,
                 memory_bytes: int = WORKER_MEMORY_BYTES) -> None:
        self.workers = workers
        self.timeout_s = timeout_s
        self.memory_bytes = memory_bytes
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # spawn: the parent has threads (and Airflow's machinery); forking it is unsafe
                self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_limit_memory, initargs=(self.memory_bytes,))
            return self._pool

    def _reset(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()  # a hung worker never returns on its own
        pool.shutdown(wait=False, cancel_futures=True)

    def extract(self, html: bytes, url: str, *, feed_title: str | None,
                feed_published: datetime | None) -> Extracted:
        pool = self._get_pool()
        try:
            future = pool.submit(extract_article, html, url, feed_title=feed_title, feed_published=feed_published)
        except BrokenProcessPool:
            self._reset(pool)
            pool = self._get_pool()
            future = pool.submit(extract_article, html, url, feed_title=feed_title, feed_published=feed_published)
        try:
            return future.result(timeout=self.timeout_s)
        except FutureTimeout:
            log.warning("extraction of %s exceeded %.0fs; worker replaced", url, self.timeout_s)
            self._reset(pool)
            raise ExtractionFailed("extract_timeout", f"extraction exceeded {self.timeout_s:.0f}s") from None
        except (BrokenProcessPool, MemoryError):
            log.warning("extraction of %s crashed its worker (memory limit?); worker replaced", url)
            self._reset(pool)
            raise ExtractionFailed("extract_crashed", "extraction worker died (memory limit)") from None

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> BoundedExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
