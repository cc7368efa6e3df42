"""Parse jobs on a Celery queue (Redis broker): `magsearch worker` processes parse and OCR, on this
machine or others, while the one writer (`magsearch ingest`) stores, catalogs and indexes.

Used instead of `worker.run_isolated` when `MAGSEARCH_BROKER_URL=redis://HOST:PORT/N` is set (see
`worker.run_jobs`). The writer publishes at most `window` jobs at a time (each carries its file's
bytes; at most 256 MB of them out at once), collects their results from the Redis result backend as
they come, and hands them on in the same shape as `run_isolated` (`Outcome`). A worker runs one
job at a time, and runs it exactly as the embedded ingest does: in a forked child under the job's
time and memory limits (`run_isolated`), so a hostile file fails alone there too.

Failures:
- a worker killed mid-job: the message was not acknowledged (`acks_late`), so Redis gives it to
  another worker once the visibility timeout (`MAGSEARCH_QUEUE_VISIBILITY`, 600 s) has passed. The
  writer takes the first result of each job and forgets the rest: a file is stored once.
- no worker answers while jobs wait (`MAGSEARCH_QUEUE_IDLE`, 30 s): the writer says so once.
- the broker goes away: the writer says so in one line on stderr and waits; when it is back it
  publishes again every job still without a result (a restarted Redis may have lost them), and goes
  on. Workers reconnect by themselves; a result they could not store is retried until it is stored.

Messages are JSON (bytes in base64), never pickle: whoever can write to the broker cannot make a
worker or the writer run code. The broker holds file contents: keep it private.
"""

from __future__ import annotations

import base64
import os
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import asdict, replace
from typing import Any

from ..config import env_float
from ..models import Citation, Passage
from .analyse import Analysis, Job, analyse
from .ocr import OcrOptions
from .worker import Outcome, run_isolated

TASK = "magsearch.parse"
QUEUE = "magsearch.parse"
RESULT_TTL = 24 * 3600  # results nobody collected (a writer that died) expire
WINDOW_BYTES = 256 * 1024 * 1024  # file bytes out on the queue at once (at least one file)


def _visibility() -> float:
    return env_float("MAGSEARCH_QUEUE_VISIBILITY", 600.0)


def _idle_seconds() -> float:
    return env_float("MAGSEARCH_QUEUE_IDLE", 30.0)


def make_app(broker_url: str, *, role: str) -> Any:
    """The Celery app for a broker. role: "writer" (publishes, polls results, never retries behind
    our back) or "worker" (consumes; reconnects and retries storing results for ever)."""
    from celery import Celery

    app = Celery("magsearch", broker=broker_url, backend=broker_url, set_as_current=False)
    worker = role == "worker"
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        task_default_queue=QUEUE,
        task_acks_late=True,  # acknowledged once done: a killed worker's job is given out again
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,  # one job at a time per worker: the others stay for others
        result_expires=RESULT_TTL,
        broker_transport_options={
            "visibility_timeout": _visibility(),
            "unacked_restore_interval": 2 if _visibility() < 60 else 10,
        },
        broker_connection_retry=worker,
        broker_connection_retry_on_startup=worker,
        broker_connection_max_retries=None if worker else 0,
        result_backend_always_retry=worker,
        result_backend_max_retries=10**9 if worker else 0,
        result_backend_max_sleep_between_retries_ms=2000,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        broker_heartbeat=0,
    )
    if worker:

        @app.task(name=TASK, bind=False)
        def parse(payload: dict[str, Any]) -> dict[str, Any]:
            return run_payload(payload)

    return app


# ------------------------------------------------------------------------ messages (JSON only)


def job_to_json(job: Job) -> dict[str, Any]:
    return {
        "path": job.path,
        "data": base64.b64encode(job.data).decode("ascii"),
        "sha256": job.sha256,
        "kind": job.kind,
        "sidecar": job.sidecar,
        "max_pages": job.max_pages,
        "ocr": asdict(job.ocr),
    }


def job_from_json(d: dict[str, Any]) -> Job:
    return Job(
        path=str(d["path"]),
        data=base64.b64decode(d["data"]),
        sha256=str(d["sha256"]),
        kind=str(d.get("kind", "")),
        sidecar=dict(d.get("sidecar") or {}),
        max_pages=int(d.get("max_pages", 5000)),
        ocr=OcrOptions(**(d.get("ocr") or {})),
    )


def analysis_to_json(a: Analysis) -> dict[str, Any]:
    d = asdict(replace(a, terms={}))  # a queued job's index text is analysed by the writer
    del d["terms"]
    d["identifiers"] = [list(pair) for pair in a.identifiers]
    return d


def analysis_from_json(d: dict[str, Any]) -> Analysis:
    return Analysis(
        media_type=d["media_type"],
        kind=d["kind"],
        title=d["title"],
        fields=dict(d["fields"]),
        meta=dict(d["meta"]),
        identifiers=[(str(v), str(f)) for v, f in d["identifiers"]],
        passages=[Passage(**p) for p in d["passages"]],
        citations=[Citation(**c) for c in d["citations"]],
        pages=d["pages"],
        warnings=list(d["warnings"]),
        outside=str(d.get("outside", "")),
    )


def run_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """In a worker: one job, isolated exactly as the embedded ingest isolates it."""
    job = job_from_json(payload["job"])
    outcome = next(
        run_isolated(
            analyse,
            [job],
            workers=1,
            timeout=float(payload["timeout"]),
            memory_mb=int(payload["memory_mb"]),
        )
    )
    if outcome.error:
        return {"error": outcome.error}
    return {"analysis": analysis_to_json(outcome.value)}


# ------------------------------------------------------------------------ the writer's side


def _broker_errors() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (OperationalError, RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)


def _say(message: str) -> None:
    print(f"magsearch: {message}", file=sys.stderr, flush=True)


def _safe_url(url: str) -> str:
    """The broker URL without a password."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def run_queued(
    jobs: Iterable[Job],
    *,
    broker_url: str,
    timeout: float,
    memory_mb: int,
    window: int = 16,
    poll: float = 0.05,
) -> Iterator[Outcome[Job]]:
    """Publish parse jobs to the queue and yield their outcomes as they come back."""
    app = make_app(broker_url, role="writer")
    backend = app.backend
    errors = _broker_errors()
    pending = iter(jobs)
    nxt: Job | None = None
    exhausted = False
    inflight: dict[str, Job] = {}  # task id -> job
    down_since: float | None = None
    last_progress = time.monotonic()
    told_idle = False
    # The broker's identity (Redis's run_id): a restart within the client's own retries raises
    # nothing, yet loses every queued job, so it is looked at once a second
    server, looked = "", time.monotonic()

    def publish(job: Job) -> str:
        task_id = uuid.uuid4().hex
        payload = {"job": job_to_json(job), "timeout": timeout, "memory_mb": memory_mb}
        app.send_task(TASK, args=[payload], task_id=task_id, queue=QUEUE, retry=False)
        return task_id

    try:
        while inflight or not exhausted or nxt is not None:
            try:
                if down_since is not None:  # back: publish again what may have been lost
                    backend.client.ping()
                    # all or nothing: should the broker fail again half-way, every job is still
                    # in flight under its old id and is published again at the next recovery
                    inflight = {publish(job): job for job in inflight.values()}
                    down_since = None
                    server = _run_id(backend)
                elif not server or time.monotonic() - looked >= 1.0:
                    looked, was, server = time.monotonic(), server, _run_id(backend)
                    if was and server != was:
                        if inflight:
                            _say(
                                f"broker {_safe_url(broker_url)} restarted: publishing the "
                                f"{len(inflight)} job(s) it lost again"
                            )
                        inflight = {publish(job): job for job in inflight.values()}
                while len(inflight) < max(1, window) and (
                    not inflight or sum(len(j.data) for j in inflight.values()) < WINDOW_BYTES
                ):
                    if nxt is None:
                        if exhausted:
                            break
                        try:
                            nxt = next(pending)
                        except StopIteration:
                            exhausted = True
                            break
                    inflight[publish(nxt)] = nxt
                    nxt = None
                if not inflight:
                    continue
                ids = list(inflight)
                values = backend.mget([backend.get_key_for_task(t) for t in ids])
            except errors as exc:
                if down_since is None:
                    down_since = time.monotonic()
                    reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
                    _say(
                        f"broker {_safe_url(broker_url)} unreachable ({reason}); "
                        f"waiting for it to come back"
                    )
                time.sleep(1.0)
                continue
            done = False
            for task_id, raw in zip(ids, values, strict=True):
                if raw is None:
                    continue
                meta = backend.decode_result(raw)
                if meta.get("status") not in ("SUCCESS", "FAILURE"):
                    continue
                job = inflight.pop(task_id)
                done = True
                try:
                    backend.forget(task_id)
                except errors:
                    pass  # it expires anyway
                result = meta.get("result")
                if meta["status"] == "FAILURE" or not isinstance(result, dict):
                    yield Outcome(job, error=f"worker error: {str(result)[:200]}")
                elif result.get("error"):
                    yield Outcome(job, error=str(result["error"]))
                else:
                    yield Outcome(job, value=analysis_from_json(result["analysis"]))
            if done:
                last_progress = time.monotonic()
            else:
                if not told_idle and time.monotonic() - last_progress > _idle_seconds():
                    told_idle = True  # once: say why nothing happens, then keep waiting
                    try:
                        alive = app.control.ping(timeout=1.0)
                    except errors:
                        alive = [{}]
                    if not alive:
                        _say(
                            f"no worker is taking jobs from {_safe_url(broker_url)} "
                            f"(start `magsearch worker`); waiting"
                        )
                time.sleep(poll)
    finally:
        for task_id in inflight:  # the writer stops early: no result is left behind for ever
            try:
                backend.forget(task_id)
            except errors:
                pass


def _run_id(backend: Any) -> str:
    return str(backend.client.info("server").get("run_id", ""))


def run_worker(broker_url: str, *, name: str = "") -> None:
    """`magsearch worker`: take parse jobs from the queue, one at a time, until stopped."""
    from .analyse import warm_up

    warm_up()
    app = make_app(broker_url, role="worker")
    worker = app.Worker(
        pool="solo",
        concurrency=1,
        hostname=name or f"magsearch@{os.uname().nodename}-{os.getpid()}",
        queues=[QUEUE],
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        loglevel="WARNING",
        quiet=True,
    )
    worker.start()
