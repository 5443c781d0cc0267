"""Shadow traffic: every task request is also worked by another release, off the live path, and compared.

Why: the gate's frozen set is small, and a candidate can pass it yet do worse on what people actually
send. ``sleepy serve --shadow candidate`` runs each served task on the candidate as well and records
whether each release's answer passed the verifier, per error signature, so a promotion can be judged on
real traffic before any client sees the candidate. The shadow's answer is never returned.

How it stays off the live path (target: live latency at most 5 % slower):

* The live side only hands over a :class:`ShadowJob` (a bounded ``put_nowait``: when the queue is full
  the job is dropped and counted, never waited for).
* One shadow worker thread with its own copy of the shadow release's weights runs one job at a time,
  and only while no live HTTP request is in flight (:class:`LiveTraffic`, counted by an ASGI
  middleware from the request's arrival until its last byte is sent, streams included). A live
  request that arrives mid-generation pauses the shadow at the next token (:class:`YieldToLive`), so
  the two never share the cores for more than one decoding step. The batcher has no priorities and
  one set of weights, so the shadow does not queue there; instead the shadow's thread runs at the
  lowest CPU priority (``nice`` 19, Linux), and so do the threads it starts. What can still overlap a
  live request is a verifier run the shadow had begun: its process inherits nice 19, but the sandbox
  gives it a session of its own, and where the kernel schedules sessions apart (autogroup) it competes
  as a group of its own for the rest of that run (a fraction of a second).
* Tools and memory come before any weights (``sleepy.serve.api``): when they solved the live task, the
  shadow's outcome is the same by construction and nothing is rerun (``decided_by`` says which layer).
  Otherwise the shadow goes straight to its model, on the prompt the agent builds for it (the live one's
  when both share a base model: rebuilding it is Python work that would contend for the GIL with a live
  request), routed by its own router, and its edit is verified like a live one. It never reruns
  memory: the live fix may just have been stored, and would hand the shadow the live's answer.
* The shadow stores nothing in memory or the episode store: what it learns would change live answers.

Outcomes go to ``<workspace>/serve/shadow.jsonl`` (one wide event each, also one for each dropped job)
and into a per-signature tally: :meth:`Shadow.report` in the server (the dashboard's ``/api/shadow``),
:func:`read_shadow_log` from the file afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from sleepy.adapters.lora import RoutedModel
from sleepy.model.generation import GenerationConfig
from sleepy.tasks.task import Task
from sleepy.telemetry.events import EventLog

log = logging.getLogger("sleepy.serve")

OPERATION = "shadow"  # gen_ai.operation.name of the shadow's events


class ShadowError(RuntimeError):
    """A shadow release that cannot be loaded (unknown name, unset alias, damaged or unloadable weights)."""


class Stopped(RuntimeError):
    """The server is shutting down: a shadow generation in progress stops at the next token."""


class LiveTraffic:
    """How many live HTTP requests are in flight; the shadow works only while there are none."""

    def __init__(self) -> None:
        self._busy = 0
        self._cond = threading.Condition()

    @property
    def busy(self) -> int:
        return self._busy

    def enter(self) -> None:
        with self._cond:
            self._busy += 1

    def leave(self) -> None:
        with self._cond:
            self._busy -= 1
            if self._busy == 0:
                self._cond.notify_all()

    def wait_idle(self, stop: threading.Event | None = None) -> bool:
        """Block until no live request is in flight; False when ``stop`` was set meanwhile."""
        with self._cond:
            while self._busy and not (stop is not None and stop.is_set()):
                self._cond.wait(0.25)  # wakes at once on the last leave(); the timeout only checks ``stop``
        return not (stop is not None and stop.is_set())


class CountLiveRequests:
    """ASGI middleware: every HTTP request is live traffic from its arrival until its response is sent.

    Why at the ASGI level: an app call returns only after the whole body went out, streams included, and
    a client that disconnects ends it too, so the count cannot leak (a route-level count would have to
    follow every stream, background task and error path by hand)."""

    def __init__(self, app, traffic: LiveTraffic) -> None:
        self.app, self.traffic = app, traffic

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.traffic.enter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.traffic.leave()


class YieldToLive:
    """A transformers streamer that pauses the shadow's generation between tokens while live work runs."""

    def __init__(self, traffic: LiveTraffic, stop: threading.Event) -> None:
        self.traffic, self.stop = traffic, stop
        self.paused_s = 0.0

    def put(self, value) -> None:
        if self.traffic.busy:
            began = time.perf_counter()
            if not self.traffic.wait_idle(self.stop):
                raise Stopped("the server is shutting down")
            self.paused_s += time.perf_counter() - began
        elif self.stop.is_set():
            raise Stopped("the server is shutting down")

    def end(self) -> None:
        pass


@dataclass
class ShadowJob:
    """What the live path hands over once its own answer is settled (crosses into the shadow's thread)."""

    response_id: str
    task: Task
    diagnostic: object  # sleepy.tasks.verify.Diagnostic: the error the live request started from
    cfg: GenerationConfig
    live_release: str
    live_passed: bool
    live_origin: str  # "model", or the tool or memory fix that solved it before any weights ("tool:rustc", ...)
    prompt: str | None = None  # the agent's prompt the live model saw, reused when the shadow has the same base
    prompt_model: str | None = None  # the model whose tokenizer sized that prompt (LoadedModel.path)
    queued_at: float = field(default_factory=time.perf_counter)


@dataclass
class ShadowOutcome:
    """One task worked by both releases: the wide event written to ``shadow.jsonl``."""

    response_id: str
    task_id: str
    pack: str
    signature: str
    live_release: str
    shadow_release: str
    live_passed: bool
    shadow_passed: bool | None  # None: the shadow failed to run (``error`` says why)
    decided_by: str  # "model" (the shadow's weights ran), "tool" or "memory" (solved before any weights)
    shadow_skill: str | None = None
    shadow_edit: str | None = None
    shadow_signature_after: str | None = None
    waited_s: float = 0.0  # queued and waiting for live traffic to pause
    paused_s: float = 0.0  # paused mid-generation for live requests
    shadow_s: float = 0.0  # the shadow's own work (generate + verify)
    error: str | None = None
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))

    def to_event(self) -> dict:
        return {"gen_ai.operation.name": OPERATION, **asdict(self)}

    @classmethod
    def from_event(cls, event: dict) -> ShadowOutcome:
        return cls(**{k: v for k, v in event.items() if k in cls.__dataclass_fields__})


@dataclass
class SignatureTally:
    """Shadow against live on one error signature."""

    signature: str
    compared: int = 0
    live_solved: int = 0
    shadow_solved: int = 0
    shadow_only: int = 0  # the shadow solved it and live did not
    live_only: int = 0  # live solved it and the shadow did not
    failed: int = 0  # the shadow could not run (not compared)
    dropped: int = 0  # the shadow's queue was full (not compared)


@dataclass
class ShadowReport:
    """The shadow's figures so far, for one shadow release: totals first, then per signature."""

    shadow_release: str | None
    compared: int = 0
    live_solved: int = 0
    shadow_solved: int = 0
    shadow_only: int = 0
    live_only: int = 0
    failed: int = 0
    dropped: int = 0
    queued: int = 0
    by_signature: list[SignatureTally] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


class ShadowTally:
    """The per-signature counts of one shadow release, built one outcome (or drop) at a time."""

    def __init__(self, shadow_release: str) -> None:
        self.shadow_release = shadow_release
        self.rows: dict[str, SignatureTally] = {}

    def _row(self, signature: str) -> SignatureTally:
        return self.rows.setdefault(signature, SignatureTally(signature))

    def add(self, outcome: ShadowOutcome) -> None:
        row = self._row(outcome.signature)
        if outcome.shadow_passed is None:
            row.failed += 1
            return
        row.compared += 1
        row.live_solved += outcome.live_passed
        row.shadow_solved += outcome.shadow_passed
        row.shadow_only += outcome.shadow_passed and not outcome.live_passed
        row.live_only += outcome.live_passed and not outcome.shadow_passed

    def drop(self, signature: str) -> None:
        self._row(signature).dropped += 1

    def report(self, queued: int = 0) -> ShadowReport:
        rows = sorted(self.rows.values(), key=lambda r: (-r.compared, r.signature))
        out = ShadowReport(self.shadow_release, queued=queued, by_signature=[replace(r) for r in rows])
        for name in ("compared", "live_solved", "shadow_solved", "shadow_only", "live_only", "failed", "dropped"):
            setattr(out, name, sum(getattr(r, name) for r in rows))
        return out


def read_shadow_log(path: Path, shadow_release: str | None = None) -> ShadowReport:
    """The tally rebuilt from ``shadow.jsonl``: for ``shadow_release``, or the last one the log names."""
    events = [e for e in EventLog(path).read() if e.get("gen_ai.operation.name") == OPERATION]
    release = shadow_release or next((e["shadow_release"] for e in reversed(events) if e.get("shadow_release")),
                                     None)
    tally = ShadowTally(release or "")
    for event in events:
        if event.get("shadow_release") != release:
            continue
        if event.get("dropped"):
            tally.drop(event.get("signature") or "")
        else:
            tally.add(ShadowOutcome.from_event(event))
    return tally.report()


def load_shadow(registry, name: str, model_ref: str | None, device: str = "auto") -> RoutedModel:
    """The shadow release's own copy of its weights (never the live model's cached one: the shadow's thread
    must not share a module with the batcher's). :class:`ShadowError` in one line when it cannot load."""
    from sleepy.adapters.registry import ALIASES
    from sleepy.model.loader import load_model

    try:
        if name in ALIASES and name != "production" and name not in registry.aliases():
            raise ShadowError(f"no release is named {name} yet (the alias is unset)")
        release = registry.get(name)
        base = release.base_model if release is not None else model_ref
        return RoutedModel(load_model(base, device, fresh=True), release)
    except ShadowError:
        raise
    except Exception as exc:  # unknown name, damaged release, weights that do not load: all one line
        raise ShadowError(" ".join(str(exc).split()) or type(exc).__name__) from exc


class Shadow:
    """The shadow worker: a bounded queue of jobs, one thread, its own weights, and the running tally."""

    def __init__(self, model: RoutedModel, log_path: Path, traffic: LiveTraffic | None = None,
                 max_queue: int = 32, registry=None, follow: str | None = None, device: str = "auto",
                 follow_interval_s: float = 2.0) -> None:
        self.model = model
        self.traffic = traffic or LiveTraffic()
        self.events = EventLog(log_path)
        self.queue: queue.Queue[ShadowJob | None] = queue.Queue(maxsize=max_queue)
        self.follower = None
        self._tallies: dict[str, ShadowTally] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.nice: int | None = None  # the worker thread's CPU priority once it runs (None: left as it was)
        self._thread = threading.Thread(target=self._loop, name="sleepy-shadow", daemon=True)
        self._thread.start()
        if follow is not None and registry is not None:  # --shadow candidate keeps shadowing each new candidate
            from sleepy.serve.follow import ReleaseFollower

            self.follower = ReleaseFollower(registry, follow, device, model, self._swap, follow_interval_s).start()

    @property
    def release(self) -> str:
        return self.model.name

    def _swap(self, routed: RoutedModel) -> None:
        self.model = routed  # the job running now finishes on the weights it started with

    def offer(self, job: ShadowJob) -> bool:
        """Queue a job without ever waiting: False (and counted as dropped) when the queue is full."""
        if self._stop.is_set():
            return False
        try:
            self.queue.put_nowait(job)
            return True
        except queue.Full:
            release = self.release
            with self._lock:
                self._tally(release).drop(job.diagnostic.key)
            self.events.append({"gen_ai.operation.name": OPERATION, "dropped": True, "response_id": job.response_id,
                                "task_id": job.task.id, "signature": job.diagnostic.key, "shadow_release": release,
                                "time": datetime.now(UTC).isoformat(timespec="milliseconds")})
            return False

    def _tally(self, release: str) -> ShadowTally:
        return self._tallies.setdefault(release, ShadowTally(release))

    def report(self, shadow_release: str | None = None) -> ShadowReport:
        """The tally of ``shadow_release`` (default: the release shadowed now)."""
        release = shadow_release or self.release
        with self._lock:
            return self._tally(release).report(queued=self.queue.qsize())

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop the worker (a generation in progress stops at its next token) and the alias follower; jobs
        still queued are not run. Why: the thread holds a whole model, like the batcher's."""
        self._stop.set()
        with contextlib.suppress(queue.Full):
            self.queue.put_nowait(None)
        if self.follower is not None:
            self.follower.stop(timeout_s)
        self._thread.join(timeout_s)

    def _lower_priority(self) -> None:
        """Nice 19 for this thread alone (Linux keeps a nice value per thread; elsewhere the call would reach
        the whole server, so it is left alone)."""
        if sys.platform == "linux":
            with contextlib.suppress(OSError):
                tid = threading.get_native_id()
                os.setpriority(os.PRIO_PROCESS, tid, 19)
                self.nice = os.getpriority(os.PRIO_PROCESS, tid)

    def _loop(self) -> None:
        self._lower_priority()
        while not self._stop.is_set():
            job = self.queue.get()
            if job is None or not self.traffic.wait_idle(self._stop):
                continue
            try:
                outcome = self.run(job)
            except Stopped:
                return
            except Exception as exc:  # never let the worker die; the outcome says what happened
                log.exception("shadow job failed")
                outcome = ShadowOutcome(job.response_id, job.task.id, job.task.pack, job.diagnostic.key,
                                        job.live_release, self.release, job.live_passed, None, "model",
                                        error=f"{type(exc).__name__}: {exc}")
            with self._lock:
                self._tally(outcome.shadow_release).add(outcome)
            self.events.append(outcome.to_event())

    def run(self, job: ShadowJob) -> ShadowOutcome:
        """Work one job on the shadow release (in the worker's thread; pauses whenever live work runs)."""
        from sleepy.context.prompt import ContextBuilder
        from sleepy.loop.agent import PROMPT_BUDGET
        from sleepy.model.generation import generate
        from sleepy.tasks.edit import EditError, apply_edit, parse_edit
        from sleepy.tasks.verify import verify

        model, task, diag = self.model, job.task, job.diagnostic
        outcome = ShadowOutcome(job.response_id, task.id, task.pack, diag.key, job.live_release, model.name,
                                job.live_passed, None, "model", waited_s=round(time.perf_counter() - job.queued_at, 4))
        if job.live_origin != "model":  # a tool or memory solved it before any weights: the same on any release
            outcome.shadow_passed, outcome.decided_by = job.live_passed, job.live_origin.split(":")[0]
            return outcome
        began = time.perf_counter()
        outcome.shadow_skill = model.skill_for(diag.key)
        prompt = job.prompt if job.prompt is not None and job.prompt_model == model.lm.path else \
            ContextBuilder(model.lm.count_tokens, budget=PROMPT_BUDGET).for_task(task, task.source, diag).text
        streamer = YieldToLive(self.traffic, self._stop)
        with model.using(outcome.shadow_skill):
            completion = generate(model.lm, [prompt], replace(job.cfg, n=1, batch_size=1), streamer=streamer,
                                  sources=[task.source])[0][0]
        outcome.shadow_edit = completion.text
        if not self.traffic.wait_idle(self._stop):
            raise Stopped("the server is shutting down")
        try:
            proof = verify(task, apply_edit(task.source, parse_edit(completion.text)))
            outcome.shadow_passed = proof.passed
            outcome.shadow_signature_after = proof.signature
        except EditError as exc:
            outcome.shadow_passed, outcome.shadow_signature_after = False, f"edit: {exc}"
        outcome.paused_s = round(streamer.paused_s, 4)
        outcome.shadow_s = round(time.perf_counter() - began - streamer.paused_s, 4)
        return outcome
