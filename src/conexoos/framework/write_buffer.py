"""A durable write buffer: a request appends a payload (a JSON object) and returns; a scheduled task reads
the payloads in batches, stores them where they belong, then acknowledges them.

Two queues, chosen by :func:`open_write_buffer`:

- a Redis stream (``XADD``; read with ``XRANGE``, acknowledged with ``XDEL``) when ``SERVICES.redis`` is
  configured. An append is acknowledged once Redis has it; surviving a Redis restart or crash is Redis's
  persistence (the README says what to configure: AOF with ``appendfsync always``);
- otherwise files in the instance folder (:class:`FileQueue`): each append is one ``O_APPEND`` write of
  one line to a descriptor its thread keeps open, so several processes append at once and an acknowledged
  payload survives kill -9 of its process (the kernel holds the write); with ``fsync`` each append is
  fsync'd before it returns, and survives a crash of the machine too.

With Redis configured but failing (down, frozen), an append goes to the local files instead
(:class:`SpillingQueue`): the request still succeeds, and the flush drains both.

Delivery is at least once: a flush that crashes after storing a batch and before acknowledging it reads
the batch again. A consumer must therefore store idempotently (each payload carries its own id).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry

from .causes import one_line_cause
from .config import Settings
from .services import Services

log = logging.getLogger("conexoos.write_buffer")
Payload = dict[str, Any]
LIVE = "live.jsonl"
"""The file appends go to; a flush renames it to ``batch-<ns>-<pid>.jsonl`` before reading it."""
BATCH_PREFIX = "batch-"
REDIS_TIMEOUT = 0.5
"""Seconds an append may wait for Redis (to connect, then to answer) before it goes to the local files."""
SPILL_SECONDS = 5.0
"""After Redis failed an append, appends go straight to the local files for this long."""
REDIS_RETRY = Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,))


class WriteBufferError(RuntimeError):
    """An append could not be made durable anywhere: the caller must not acknowledge its payload."""


@dataclass
class Batch:
    """Payloads read from a queue, in append order, with what acknowledging them needs."""

    payloads: list[Payload]
    source: str = ""
    """Which queue they came from (``redis`` or ``file``)."""
    tokens: list[Any] = field(default_factory=list)
    """Stream entry ids, or the batch file's path."""

    def __len__(self) -> int:
        return len(self.payloads)


class WriteQueue(Protocol):
    """A durable queue of JSON payloads: append, read a batch, acknowledge it."""

    def append(self, payload: Payload) -> None:
        """Make ``payload`` durable, or raise :class:`WriteBufferError`."""

    def read(self, limit: int) -> Batch:
        """The oldest unacknowledged payloads (at most ``limit`` for a stream; one batch file for files)."""

    def ack(self, batch: Batch) -> None:
        """Forget ``batch``: it has been stored."""

    def pending(self) -> int:
        """How many payloads wait (for operators and tests)."""


class RedisStreamQueue:
    """A Redis stream: ``XADD`` appends, ``XRANGE`` reads from the oldest, ``XDEL`` acknowledges.

    No consumer group: the flush runs once per cluster (a scheduled task), and a second reader of the same
    entries (two flushes overlapping across hosts) only costs work, since the consumer de-duplicates.
    """

    def __init__(self, client: redis.Redis, key: str) -> None:
        self._client = client
        self.key = key

    def append(self, payload: Payload) -> None:
        try:
            self._client.xadd(self.key, {"p": _encode(payload)})
        except redis.RedisError as error:
            raise WriteBufferError(f"the Redis stream {self.key} refused an append: {error}") from error

    def read(self, limit: int) -> Batch:
        entries: list[tuple[bytes, dict[bytes, bytes]]] = self._client.xrange(  # type: ignore[assignment]
            self.key, "-", "+", count=limit
        )
        payloads, tokens = [], []
        for entry_id, fields in entries:
            tokens.append(entry_id)
            payload = _decode(fields.get(b"p", b""), f"stream {self.key} entry {entry_id!r}")
            if payload is not None:
                payloads.append(payload)
        return Batch(payloads, "redis", tokens)

    def ack(self, batch: Batch) -> None:
        if batch.tokens:
            self._client.xdel(self.key, *batch.tokens)

    def pending(self) -> int:
        return int(self._client.xlen(self.key))


class FileQueue:
    """Append-only files in ``folder``, safe for several processes of one machine.

    Each thread of a process keeps a descriptor of ``live.jsonl`` open (``O_APPEND``). An append takes a
    shared ``flock`` on it, checks that the path still names the file it holds (a flush may have renamed
    it meanwhile: then it opens the new one), writes its line in one ``write``, fsyncs when ``fsync`` is
    set, and releases the lock. A flush renames ``live.jsonl`` to a batch file, then takes an exclusive
    ``flock`` on the batch file: that waits for the appends already writing to it, and no later append can
    reach it (it takes its lock after the rename, and then sees it). Batch files are read oldest first, and
    deleted when acknowledged; an unreadable line (a machine crash mid-write: never acknowledged) is set
    aside in ``refused.jsonl`` with a log line, never silently dropped.

    A renamed file's descriptors are closed in every thread, not only in those that append again (a batch
    file still open is not freed when deleted): by the flush, in its own process, once its writers are done;
    in another process, by the first append that finds the file renamed. A forked child closes the
    descriptors it inherited (see :func:`_close_inherited`).
    """

    def __init__(self, folder: Path, fsync: bool = True) -> None:
        self.folder = folder
        self.fsync = fsync
        """Fsync each append (survives a machine crash); without it an append survives the death of its
        process (the kernel holds the write) but not a power cut."""
        self._kept = threading.local()
        self._live_name = os.path.join(folder, LIVE)  # per append: not a Path made each time

    @property
    def live(self) -> Path:
        return self.folder / LIVE

    def append(self, payload: Payload) -> None:
        line = (_encode(payload) + "\n").encode("utf-8")
        kept = self._thread_file()
        with kept.lock:  # a flush closing the idle threads' descriptors skips (or waits for) this one
            try:
                self._lock_current(kept)
                try:
                    os.write(kept.descriptor, line)
                    if self.fsync:
                        # Per append: concurrent fsyncs of one file are merged by the file system's journal,
                        # which a group commit in the process (one fsync at a time) measured slower than.
                        os.fsync(kept.descriptor)
                finally:
                    fcntl.flock(kept.descriptor, fcntl.LOCK_UN)
            except OSError as error:
                kept.close()  # opened again by the next append
                raise WriteBufferError(f"could not append to {self.live}: {error}") from error

    def _thread_file(self) -> _KeptFile:
        kept: _KeptFile | None = getattr(self._kept, "file", None)
        if kept is None:
            kept = self._kept.file = _KeptFile(self._live_name)
        return kept

    def _lock_current(self, kept: _KeptFile) -> None:
        """Open ``kept`` on the live file (if it is closed) and share-lock it, once a flush has not renamed
        it away; the caller holds ``kept.lock``."""
        while True:
            if kept.descriptor < 0:
                kept.open(self._open_live())
            fcntl.flock(kept.descriptor, fcntl.LOCK_SH)
            try:
                if os.stat(self._live_name).st_ino == kept.inode:
                    return
            except FileNotFoundError:
                pass  # renamed by a flush and not created again yet: open it again
            kept.close()  # also releases its lock
            self._close_renamed(wait=False)  # a flush of another process: the idle threads' ones too

    def _close_renamed(self, wait: bool) -> None:
        """Close every thread's descriptor of a file no longer named ``live.jsonl``; a thread appending
        meanwhile is waited for (``wait``) or left to find it renamed itself."""
        try:
            live_inode: int | None = os.stat(self._live_name).st_ino
        except FileNotFoundError:
            live_inode = None
        for kept in _kept_files(self._live_name):
            if kept.descriptor >= 0 and kept.inode != live_inode and kept.lock.acquire(blocking=wait):
                try:
                    if kept.inode != live_inode:  # again: its thread may have opened the new one meanwhile
                        kept.close()
                finally:
                    kept.lock.release()

    def _open_live(self) -> int:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            return os.open(self.live, flags, 0o600)
        except FileNotFoundError:  # the folder is made by the first append (or again, if removed)
            self.folder.mkdir(parents=True, exist_ok=True)
            return os.open(self.live, flags, 0o600)

    def read(self, limit: int) -> Batch:
        self._rotate()
        batches = self.batch_files()
        if not batches:
            return Batch([], "file")
        oldest = batches[0]
        try:
            return Batch(self._payloads(oldest), "file", [oldest])
        except FileNotFoundError:
            return Batch([], "file")  # an overlapping flush stored and acknowledged it meanwhile

    def batch_files(self) -> list[Path]:
        """The batch files waiting, oldest first."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob(f"{BATCH_PREFIX}*.jsonl"), key=_batch_order)

    def _rotate(self) -> None:
        """Rename the live file to a new batch file (when it holds anything) and wait for its writers."""
        try:
            if self.live.stat().st_size == 0:
                return
        except FileNotFoundError:
            return
        batch = self.folder / f"{BATCH_PREFIX}{time.time_ns():020d}-{os.getpid()}.jsonl"
        try:
            os.rename(self.live, batch)
        except FileNotFoundError:
            return  # another flush (an overlapping run) renamed it first
        descriptor = os.open(batch, os.O_RDONLY)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # the appends that opened it before the rename end
        finally:
            os.close(descriptor)
        self._close_renamed(wait=True)  # its writers are done: no append holds a lock this one waits on

    def _payloads(self, path: Path) -> list[Payload]:
        payloads = []
        with path.open("rb") as stream:
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                payload = _decode(line, f"{path.name} line {number}")
                if payload is None:
                    self._set_aside(line)
                else:
                    payloads.append(payload)
        return payloads

    def _set_aside(self, line: bytes) -> None:
        with (self.folder / "refused.jsonl").open("ab") as refused:
            refused.write(line if line.endswith(b"\n") else line + b"\n")
            refused.flush()
            os.fsync(refused.fileno())

    def ack(self, batch: Batch) -> None:
        for path in batch.tokens:
            Path(path).unlink(missing_ok=True)

    def pending(self) -> int:
        files = [self.live, *self.batch_files()]
        return sum(_count_lines(path) for path in files)


class _KeptFile:
    """A thread's descriptor of a live file (-1 when closed), used under ``lock`` (by its thread's appends,
    and by a flush closing it), closed when dropped (its thread ended)."""

    def __init__(self, live_name: str) -> None:
        self.live_name = live_name
        self.descriptor = -1
        self.inode = -1
        self.lock = threading.Lock()
        with _KEPT_FILES_LOCK:
            _KEPT_FILES.add(self)

    def open(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self.inode = os.fstat(descriptor).st_ino

    def close(self) -> None:
        if self.descriptor >= 0:
            descriptor, self.descriptor, self.inode = self.descriptor, -1, -1
            os.close(descriptor)

    def __del__(self) -> None:
        self.close()


_KEPT_FILES: weakref.WeakSet[_KeptFile] = weakref.WeakSet()
"""Every thread's kept file in this process (without keeping them alive)."""
_KEPT_FILES_LOCK = threading.Lock()


def _kept_files(live_name: str) -> list[_KeptFile]:
    with _KEPT_FILES_LOCK:
        return [kept for kept in _KEPT_FILES if kept.live_name == live_name]


def _close_inherited() -> None:
    """In a forked child: close the descriptors inherited from the parent's threads (the child opens its
    own; the parent's locks stay the parent's), and make the locks the parent's threads held usable."""
    global _KEPT_FILES_LOCK  # a parent's thread may have held it at the fork: never released here
    _KEPT_FILES_LOCK = threading.Lock()
    for kept in list(_KEPT_FILES):
        kept.lock = threading.Lock()
        kept.close()


os.register_at_fork(after_in_child=_close_inherited)


class SpillingQueue:
    """A Redis stream whose appends go to local files while Redis fails; reads drain the files first.

    After a failed append, the next SPILL_SECONDS of appends go straight to the files (a frozen Redis
    would otherwise cost every request REDIS_TIMEOUT); then Redis is tried again."""

    def __init__(self, stream: RedisStreamQueue, spill: FileQueue) -> None:
        self.stream = stream
        self.spill = spill
        self._spilling = False
        self._retry_at = 0.0

    def append(self, payload: Payload) -> None:
        if self._spilling and time.monotonic() < self._retry_at:
            self.spill.append(payload)
            return
        try:
            self.stream.append(payload)
        except WriteBufferError as error:
            if not self._spilling:  # one line per outage, not one per request
                log.warning("write buffer: %s; appending to %s until Redis answers", error, self.spill.folder)
            self._spilling, self._retry_at = True, time.monotonic() + SPILL_SECONDS
            self.spill.append(payload)
            return
        if self._spilling:
            log.info("write buffer: Redis answers again; appending to the stream %s", self.stream.key)
            self._spilling = False

    def read(self, limit: int) -> Batch:
        spilled = self.spill.read(limit)
        if spilled.payloads or spilled.tokens:
            return spilled
        return self.stream.read(limit)

    def ack(self, batch: Batch) -> None:
        (self.spill if batch.source == "file" else self.stream).ack(batch)

    def pending(self) -> int:
        return self.spill.pending() + self.stream.pending()


def open_write_buffer(settings: Settings, services: Services, name: str, fsync: bool = True) -> WriteQueue:
    """The queue ``name``: a Redis stream (spilling to files while Redis fails) when ``SERVICES.redis`` is
    configured, otherwise files in ``INSTANCE_PATH/write-buffer/<name>`` (``fsync``: see FileQueue)."""
    files = FileQueue(Path(settings.instance_path) / "write-buffer" / name, fsync=fsync)
    if not services.has("redis"):
        return files
    client = redis.Redis.from_url(
        services.redis_url,
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        retry=REDIS_RETRY,  # once at once on a closed connection (a restarted Redis), never on a timeout
    )
    return SpillingQueue(RedisStreamQueue(client, f"{settings.key_prefix}buffer:{name}"), files)


def set_aside_problem(services: Services) -> str | None:
    """Why :func:`set_aside` could not reach the site's buffers now (Redis not answering), else None."""
    if not services.has("redis"):
        return None
    client = _command_client(services)
    try:
        client.ping()
    except redis.RedisError as error:
        return f"Redis does not answer ({one_line_cause(error)})"
    finally:
        client.close()
    return None


def _command_client(services: Services) -> redis.Redis:
    """A client of the site's Redis for one command's few calls, giving up after :data:`REDIS_TIMEOUT`."""
    return redis.Redis.from_url(
        services.redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
    )


def set_aside(settings: Settings, services: Services, label: str) -> int:
    """Move every write buffer of the site out of use, as ``<buffer>-<label>`` (files) or
    ``<stream>:<label>`` (Redis), for a restored database: its events were written after the backup and
    name rows the backup does not hold (a link id the next new link gets again). The number of events
    set aside; nothing is deleted."""
    moved = 0
    folder = Path(settings.instance_path) / "write-buffer"
    if folder.is_dir():
        moved += sum(FileQueue(queue).pending() for queue in folder.iterdir() if queue.is_dir())
        folder.rename(folder.with_name(f"write-buffer-{label}"))
    if services.has("redis"):
        client = _command_client(services)
        try:
            for key in list(client.scan_iter(match=f"{settings.key_prefix}buffer:*", _type="stream")):
                moved += int(client.xlen(key))
                client.rename(key, key + f":{label}".encode())
        finally:
            client.close()
    return moved


def drain(queue: WriteQueue, store: Callable[[list[Payload]], None], limit: int, batches: int) -> int:
    """Read up to ``batches`` batches, ``store`` each, acknowledge it once stored; how many were stored.

    ``store`` must be idempotent: when it raises, nothing is acknowledged and the batch is read again.
    """
    total = 0
    for _ in range(batches):
        batch = queue.read(limit)
        if not batch.tokens:
            return total
        if batch.payloads:
            store(batch.payloads)
        queue.ack(batch)
        total += len(batch)
    return total


def _encode(payload: Payload) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _decode(raw: bytes | str, where: str) -> Payload | None:
    try:
        payload = json.loads(raw)
    except ValueError:
        log.error("write buffer: %s is not JSON (a write cut short?); set aside: %r", where, raw[:200])
        return None
    if not isinstance(payload, dict):
        log.error("write buffer: %s is not a JSON object; set aside: %r", where, raw[:200])
        return None
    return payload


def _batch_order(path: Path) -> tuple[int, str]:
    stamp = path.name[len(BATCH_PREFIX) :].split("-", 1)[0]
    return (int(stamp) if stamp.isdigit() else 0, path.name)


def _count_lines(path: Path) -> int:
    try:
        with path.open("rb") as stream:
            return sum(1 for line in stream if line.strip())
    except FileNotFoundError:
        return 0
