"""Request batching: requests that arrive together share one ``generate`` call.

One worker thread owns the model (a CPU model is not thread-safe to run twice at once, and two
concurrent forward passes would only fight over the same cores). Requests queue; when the worker is
free it takes every queued request that can share a call with the oldest one (same skill, same
sampling settings) up to ``max_batch``, runs them as one batch, and resolves each request's future.
A short gathering window on an idle worker lets a burst of requests land in one batch. A streamed
request runs alone, with a streamer that hands text deltas back as tokens are made.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace

from sleepy.adapters.lora import RoutedModel
from sleepy.model.generation import Completion, GenerationConfig, generate


@dataclass
class Job:
    prompt: str
    cfg: GenerationConfig
    skill: str | None
    on_delta: Callable[[str | None], None] | None = None  # streamed: text deltas, then None
    future: Future = field(default_factory=Future)
    cancelled: threading.Event = field(default_factory=threading.Event)  # the client went away
    source: str | None = None  # a task's program: its edit is decoded as the day decodes (sleepy.model.constrain)

    @property
    def key(self) -> tuple:
        c = self.cfg
        return (self.skill, c.max_new_tokens, c.temperature, c.top_p, c.stop, c.n, c.seed)


@dataclass
class Served:
    completion: Completion
    batch_size: int
    queued_s: float
    release: str = "base"  # the release whose weights made it (the served one can change between batches)


class SkillGone(RuntimeError):
    """A request routed to a skill of the release served when it arrived, run after another release
    (without that skill) was swapped in (``sleepy.serve.follow``)."""


class Closed(RuntimeError):
    """A request still queued when the server shut down: its client gets a reason (503) instead of
    waiting on a worker that is gone."""


class Cancelled(RuntimeError):
    """A streamed request whose client disconnected: generation stops at the next token."""


class DeltaStreamer:
    """A transformers streamer that emits text deltas, holding back what could still become a stop string.

    It is also how a disconnected client stops its generation: ``put`` raises :class:`Cancelled`."""

    def __init__(self, tokenizer, stops: tuple[str, ...], emit: Callable[[str | None], None],
                 cancelled: threading.Event | None = None) -> None:
        self.tokenizer, self.stops, self.emit = tokenizer, stops, emit
        self.cancelled = cancelled or threading.Event()
        self.ids: list[int] = []
        self.sent = 0
        self.prompt_seen = False
        self.holdback = max((len(s) for s in stops), default=1) - 1

    def _visible(self, final: bool) -> str:
        special = {self.tokenizer.pad_token_id, self.tokenizer.eos_token_id}
        text = self.tokenizer.decode([t for t in self.ids if t not in special], skip_special_tokens=True)
        cut = min((i for i in (text.find(s) for s in self.stops) if i != -1), default=-1)
        if cut != -1:
            return text[:cut]
        if final:
            return text
        text = text[: max(0, len(text) - self.holdback)]
        return text.rstrip("\ufffd")  # never send half of a multi-byte character

    def put(self, value) -> None:
        if self.cancelled.is_set():
            raise Cancelled("the client disconnected")
        if not self.prompt_seen:  # generate() first hands over the prompt itself
            self.prompt_seen = True
            return
        self.ids.extend(int(t) for t in value.reshape(-1).tolist())
        self._send(self._visible(final=False))

    def _send(self, text: str) -> None:
        if len(text) > self.sent:
            self.emit(text[self.sent:])
            self.sent = len(text)

    def end(self) -> None:
        self._send(self._visible(final=True))
        self.emit(None)


class Batcher:
    def __init__(self, model: RoutedModel, max_batch: int = 16, window_s: float = 0.02,
                 max_queue: int = 256) -> None:
        self.model = model
        self.max_batch = max_batch
        self.window_s = window_s
        self.queue: queue.Queue[tuple[float, Job | None]] = queue.Queue(maxsize=max_queue)  # None: wake up
        self.batch_sizes: list[int] = []
        self.cancelled = 0  # streamed requests stopped because their client went away
        self._closed = threading.Event()
        self._submitting = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="sleepy-batcher", daemon=True)
        self._thread.start()

    def close(self, timeout_s: float = 30.0) -> None:
        """Stop the worker after the batch it is running (or about to run); requests still waiting fail
        with :class:`Closed`.

        Why: each app made in one process (tests, an embedding host) would otherwise leave a worker
        thread behind that holds a whole model in memory for the rest of the process."""
        with self._submitting:  # a submit either queued before this, or sees the flag and is refused
            self._closed.set()
        with contextlib.suppress(queue.Full):  # a full queue wakes the worker anyway
            self.queue.put_nowait((time.perf_counter(), None))  # wake a worker blocked on an empty queue
        self._thread.join(timeout_s)

    def submit(self, job: Job) -> Future:
        """Queue a request; :class:`queue.Full` when ``max_queue`` wait already (the API answers 429)."""
        with self._submitting:
            if self._closed.is_set():
                raise Closed("the server is shutting down")
            self.queue.put_nowait((time.perf_counter(), job))
        return job.future

    @staticmethod
    def _accept(item: tuple[float, Job | None], pending: list[tuple[float, Job]]) -> None:
        """Take a queued request on, once: a future cancelled by its awaiting request is dropped here."""
        if item[1] is not None and item[1].future.set_running_or_notify_cancel():
            pending.append(item)

    def _drain(self, pending: list[tuple[float, Job]]) -> None:
        while True:
            try:
                self._accept(self.queue.get_nowait(), pending)
            except queue.Empty:
                return

    def _loop(self) -> None:
        pending: list[tuple[float, Job]] = []  # one list for the worker's life: _step edits it in place
        while not self._closed.is_set():
            try:
                self._step(pending)
            except Exception as exc:  # never let the one worker die: every later request would hang
                logging.getLogger("sleepy.serve").exception("batcher step failed")
                self._fail(pending, exc)
                pending.clear()
        self._drain(pending)
        self._fail(pending, Closed("the server is shutting down"))

    @staticmethod
    def _fail(pending: list[tuple[float, Job]], exc: Exception) -> None:
        """Resolve every waiting request with ``exc``: no caller may wait forever on a future."""
        for _, job in pending:
            if not job.future.done():
                job.future.set_exception(exc)
            if job.on_delta is not None:
                with contextlib.suppress(Exception):  # its event loop may be gone already
                    job.on_delta(None)

    def _step(self, pending: list[tuple[float, Job]]) -> None:
        """Run one batch from ``pending`` (taking queued requests on first), or return when closed."""
        while True:
            if not pending:
                self._accept(self.queue.get(), pending)
                time.sleep(self.window_s)  # let a burst arrive before the first batch starts
            self._drain(pending)
            if self._closed.is_set():
                return
            for _, job in [p for p in pending if p[1].cancelled.is_set()]:  # gone before it started
                job.future.set_exception(Cancelled("the client disconnected before generation"))
            pending[:] = [p for p in pending if not p[1].cancelled.is_set()]
            if not pending:
                continue
            head = pending[0][1]
            if head.on_delta is not None:
                group = [pending[0]]
            else:
                group = [p for p in pending if p[1].on_delta is None and p[1].key == head.key][: self.max_batch]
            chosen = {id(p) for p in group}
            pending[:] = [p for p in pending if id(p) not in chosen]
            self._run(group)
            return

    def _run(self, group: list[tuple[float, Job]]) -> None:
        jobs = [j for _, j in group]
        started = time.perf_counter()
        model = self.model  # one batch, one set of weights, even if a new release is swapped in meanwhile
        try:
            cfg = replace(jobs[0].cfg, batch_size=len(jobs) * jobs[0].cfg.n)
            skill = jobs[0].skill
            if skill is not None and skill not in {s.name for s in (model.release.skills if model.release else [])}:
                raise SkillGone(f"skill {skill!r} is not in release {model.name}, which is served now; retry")
            sources = [j.source or "" for j in jobs] if any(j.source for j in jobs) else None
            with model.using(skill):
                if jobs[0].on_delta is not None:
                    streamer = DeltaStreamer(model.lm.tokenizer, cfg.stop, jobs[0].on_delta, jobs[0].cancelled)
                    outs = generate(model.lm, [jobs[0].prompt], cfg, streamer=streamer, sources=sources)
                else:
                    outs = generate(model.lm, [j.prompt for j in jobs], cfg, sources=sources)
            for (queued_at, j), out in zip(group, outs, strict=True):
                if not j.future.done():
                    j.future.set_result([Served(c, len(jobs), round(started - queued_at, 4), model.name)
                                         for c in out])
        except Exception as exc:  # every waiting request hears about it; the worker lives on
            self.cancelled += isinstance(exc, Cancelled)
            self._fail(group, exc)
            return
        self.batch_sizes.append(len(jobs))
