"""Extraction of one page under a time and memory bound, in a worker process.

A hostile or pathological page can hang lxml or trafilatura for minutes or eat gigabytes. Pages are
extracted by a few long-lived worker processes (``python -m media_monitoring.sandbox``) with an
address-space limit; a page that exceeds its time is abandoned, its worker killed and replaced, and
the page recorded as a failure while the batch goes on.

Workers are plain subprocesses speaking length-prefixed pickles over pipes, not multiprocessing:
inside an Airflow task ``__main__`` is Airflow's own entry point, which multiprocessing's spawn would
re-run in every child.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import select
import struct
import subprocess
import sys
import threading
import time
from datetime import datetime
from typing import IO, Any

from media_monitoring.extract import Extracted, extract_article

log = logging.getLogger(__name__)

EXTRACT_TIMEOUT_S = 20.0  # trafilatura takes ~30 ms on a news page; 20 s is a hung page
WORKER_MEMORY_BYTES = 2 * 2**30  # address-space cap per worker; a page needing more is hostile
WORKERS = 2  # one per core on the reference machine
_HEADER = struct.Struct("!Q")


class ExtractionFailed(Exception):
    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class = error_class
        self.message = message


def _write(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    chunks = []
    while size:
        chunk = stream.read(size)
        if not chunk:
            raise EOFError("worker closed its pipe")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read(stream: IO[bytes]) -> Any:
    (size,) = _HEADER.unpack(_read_exact(stream, _HEADER.size))
    return pickle.loads(_read_exact(stream, size))  # noqa: S301 (our own worker, over a private pipe)


class _Worker:
    def __init__(self, memory_bytes: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "media_monitoring.sandbox", str(memory_bytes)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def call(self, request: tuple[Any, ...], timeout_s: float) -> Any:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        _write(self.proc.stdin, request)
        deadline = time.monotonic() + timeout_s
        while True:  # wait for the first byte of the answer, at most until the deadline
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if ready:
                break
        return _read(self.proc.stdout)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)
        self._close_pipes()

    def close(self) -> None:
        try:
            if self.proc.stdin:
                self.proc.stdin.close()  # the worker's loop ends at EOF
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe and not pipe.closed:
                try:
                    pipe.close()
                except OSError:
                    pass


class BoundedExtractor:
    """Thread-safe pool of extraction workers; a hung worker is killed and replaced."""

    def __init__(self, workers: int = WORKERS, timeout_s: float = EXTRACT_TIMEOUT_S,
                 memory_bytes: int = WORKER_MEMORY_BYTES) -> None:
        self.size = workers
        self.timeout_s = timeout_s
        self.memory_bytes = memory_bytes
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        for _ in range(workers):
            self._idle.put(None)  # started lazily: a run with no new pages starts no process
        self._all: list[_Worker] = []
        self._lock = threading.Lock()

    def _start(self) -> _Worker:
        worker = _Worker(self.memory_bytes)
        with self._lock:
            self._all.append(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)

    def extract(self, html: bytes, url: str, *, feed_title: str | None, feed_published: datetime | None,
                feed_summary: str | None = None, first_seen: datetime | None = None) -> Extracted:
        """:func:`~media_monitoring.extract.extract_article` of one page, in a worker."""
        worker = self._idle.get() or self._start()
        keep: _Worker | None = worker
        try:
            status, value = worker.call((html, url, feed_title, feed_published, feed_summary, first_seen),
                                        self.timeout_s)
        except TimeoutError:
            log.warning("extraction of %s exceeded %.0fs; worker replaced", url, self.timeout_s)
            self._discard(worker)
            keep = None
            raise ExtractionFailed("extract_timeout", f"extraction exceeded {self.timeout_s:.0f}s") from None
        except (EOFError, OSError, pickle.UnpicklingError):
            log.warning("extraction of %s crashed its worker (memory limit?); worker replaced", url)
            self._discard(worker)
            keep = None
            raise ExtractionFailed("extract_crashed", "extraction worker died (memory limit?)") from None
        finally:
            self._idle.put(keep)
        if status == "error":
            raise ExtractionFailed("extract_error", value)
        return value

    def close(self) -> None:
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.close()

    def __enter__(self) -> BoundedExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _serve(memory_bytes: int) -> None:
    """Worker loop: one request in, one answer out, until stdin closes."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    import trafilatura  # noqa: F401  (warm once, not per page)

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            html, url, feed_title, feed_published, feed_summary, first_seen = _read(stdin)
        except EOFError:
            return
        answer: tuple[str, Extracted | str]
        try:
            answer = ("ok", extract_article(html, url, feed_title=feed_title, feed_published=feed_published,
                                            feed_summary=feed_summary, first_seen=first_seen))
        except MemoryError:
            raise
        except Exception as exc:  # reported to the parent as this page's failure
            answer = ("error", f"{type(exc).__name__}: {exc}")
        _write(stdout, answer)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
