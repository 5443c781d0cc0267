"""The OpenAI-compatible API: models, chat and text completions (plain or streamed), and feedback.

Routing, per request, first match wins: a model name ``sleepy:<skill>``; ``sleepy.skill`` in the
body (``extra_body`` in the ``openai`` package); ``sleepy.signature``; the signature of the program in
``sleepy.program`` (verified, so the route is the one the day loop would take); the signature named
by the prompt's ``### error`` part; otherwise the base weights. Errors come back as OpenAI-style error
bodies, never a traceback.

A request that carries ``sleepy.program`` and ``sleepy.pack`` is a task and gets the agent's treatment:
the verifier's own hints and then memory's fix patterns are tried and verified first (a passing one is
the answer, with no model call); otherwise the model sees the prompt the agent would build (the server
builds it from the program and its error; the client's words are only logged), and its edit is decoded
as the day decodes, applied and verified. The reply's ``sleepy`` field carries the verified program,
the signature before and after, and what solved it (tool, memory, model or skill). The attempt is
stored as an episode (a passing fix goes to memory at once, like any day attempt), and
``POST /v1/sleepy/feedback`` can later accept, reject or correct it; a correction is verified before
it reaches memory.
"""

from __future__ import annotations

import asyncio
import json
import queue
import secrets
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from sleepy.adapters.lora import RoutedModel
from sleepy.context.prompt import ContextBuilder, signature_from_prompt
from sleepy.loop.agent import PROMPT_BUDGET, Sample, Work, adapted_samples, tool_samples
from sleepy.loop.episodes import EpisodeConfig
from sleepy.memory.recall import ExperienceMemory
from sleepy.memory.repository import Repository, sha
from sleepy.model.generation import Completion
from sleepy.serve.batcher import Batcher, Closed, Job, Served, SkillGone
from sleepy.serve.body import (
    CompletionRequest,
    RequestError,
    Route,
    error,
    parse_completion,
    parse_feedback,
    parse_json,
)
from sleepy.serve.follow import ReleaseFollower
from sleepy.serve.shadow import CountLiveRequests, Shadow, ShadowJob
from sleepy.tasks.edit import EditError, apply_edit, parse_edit
from sleepy.tasks.task import Task
from sleepy.tasks.verify import ToolchainMissing, verify
from sleepy.telemetry.events import EventLog, request_event


@dataclass
class ServeContext:
    """What the server works with; store, memory and registry are optional (a bare model serves too)."""

    model: RoutedModel
    workspace: Path | None = None
    store: Repository | None = None
    memory: ExperienceMemory | None = None
    registry: object | None = None  # sleepy.adapters.registry.Registry
    follow: str | None = None  # an alias to keep serving as it moves (sleepy.serve.follow); None: fixed weights
    device: str = "auto"
    follow_interval_s: float = 2.0
    max_prompt_tokens: int = 2048
    max_batch: int = 16
    responses: OrderedDict = field(default_factory=OrderedDict)  # response id -> what feedback needs
    run_id: int | None = None
    follower: ReleaseFollower | None = None
    host: str = "127.0.0.1"  # where it is bound: the Host header must name it (sleepy.serve.guard)
    port: int | None = None  # None: any port (an embedding app, TestClient)
    allow_hosts: tuple[str, ...] = ()  # more names clients reach it by
    api_key: str | None = None  # required of every request when set
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))  # the dashboard's per-run token
    shadow: Shadow | None = None  # another release that also works each task, off the live path (sleepy.serve.shadow)
    tool_candidates: int = EpisodeConfig.tool_candidates  # as a day's step: hints applied and verified ...
    repair_candidates: int = EpisodeConfig.repair_candidates  # ... then repairs at the failing lines

    @property
    def log(self) -> EventLog:
        root = self.workspace or Path(".sleepy")
        return EventLog(root / "serve" / "requests.jsonl")


def generation_failure(exc: Exception) -> tuple[int, str, str, str | None]:
    """(status, message, type, code) for a request whose generation failed, in one place for the plain
    answer and for a stream that reports it in-band."""
    if isinstance(exc, SkillGone):
        return 409, str(exc), "invalid_request_error", "release_changed"
    if isinstance(exc, Closed):
        return 503, str(exc), "server_error", "shutting_down"
    return 500, f"generation failed: {exc}", "server_error", None  # the model failed: never a traceback


async def read_json(request: Request) -> dict:
    """The body of a POST as a checked JSON object. Its content type, size and origin were checked as it
    arrived (:mod:`sleepy.serve.guard`); what it holds is checked here (:mod:`sleepy.serve.body`)."""
    return parse_json(await request.body())


def add_api_routes(app: FastAPI, ctx: ServeContext) -> Batcher:
    batcher = Batcher(ctx.model, ctx.max_batch)
    log = ctx.log
    if ctx.follow and ctx.registry is not None:
        def swap(routed) -> None:
            batcher.model = ctx.model = routed

        ctx.follower = ReleaseFollower(ctx.registry, ctx.follow, ctx.device, ctx.model, swap,
                                       ctx.follow_interval_s).start()
    if ctx.shadow is not None:  # the shadow works only while no live request is in flight
        app.add_middleware(CountLiveRequests, traffic=ctx.shadow.traffic)

    def model_ids() -> list[str]:
        model = ctx.model
        return ["sleepy", *(f"sleepy:{s.name}" for s in (model.release.skills if model.release else []))]

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "sleepy"}
                                           for m in model_ids()]}

    async def request_of(request: Request, operation: str) -> CompletionRequest:
        body = await read_json(request)
        name = body.get("model", "sleepy")
        if isinstance(name, str) and name not in model_ids():
            raise RequestError(404, f"The model '{name}' does not exist", "model_not_found")
        return parse_completion(body, operation)

    def task_of(route: Route) -> Task | None:
        if route.program is None:
            return None
        return Task(id=f"serve-{route.pack}-{sha(route.program)[:12]}", pack=route.pack, family="serve",
                    source=route.program, origin="serve")

    def route_of(req: CompletionRequest, diag_key: str | None) -> tuple[str | None, str, str | None]:
        """(skill, how it was chosen, signature)."""
        extra, model = req.route, ctx.model
        if req.model.startswith("sleepy:"):
            return req.model.split(":", 1)[1], "model-name", None
        if extra.skill:
            if extra.skill not in {s.name for s in (model.release.skills if model.release else [])}:
                raise RequestError(404, f"no skill {extra.skill!r} in release {model.name}", "skill_not_found")
            return extra.skill, "skill", None
        for how, signature in (("signature", extra.signature), ("program", diag_key),
                               ("prompt", signature_from_prompt(req.prompt))):
            if signature:
                skill = model.skill_for(signature)
                return skill, how if skill else "base", signature
        return None, "base", None

    def prepare(req: CompletionRequest):
        """Verify a task's program, route it, and give it the agent's treatment before any model call: the
        verifier's hints, then memory's fix patterns, each verified (a passing one is the answer); the
        model, if asked, sees the prompt the agent would build (the server builds it, not the client)."""
        task = task_of(req.route)
        before = verify(task) if task else None
        diag = before.primary if before and not before.passed else None
        skill, how, signature = route_of(req, diag.key if diag else None)
        lm = ctx.model.lm
        solved, prompt = None, req.prompt
        if task is not None and diag is not None:
            work = [Work(task, task.source, diag, verdict=before)]
            rows = tool_samples(work, 1, ctx.tool_candidates, ctx.repair_candidates)[0]
            if not any(x.passed for x in rows[0]) and ctx.memory is not None:
                rows = adapted_samples(ctx.memory, work, jobs=1)
            solved = next((x for x in rows[0] if x.passed), None)
            prompt = ContextBuilder(lm.count_tokens, budget=PROMPT_BUDGET).for_task(task, task.source, diag).text
        n_prompt = lm.count_tokens(lm.format_prompt(prompt))
        if n_prompt > ctx.max_prompt_tokens:
            raise RequestError(400, f"prompt is {n_prompt} tokens; the limit is {ctx.max_prompt_tokens}",
                               "context_length_exceeded")
        return task, diag, skill, how, signature, solved, prompt

    def settle(operation: str, body: dict, served: Served, response_id: str, skill, how, signature, task, diag,
               stream: bool, solved: Sample | None = None) -> dict:
        """Verify a task's edit (``solved``: a tool's or memory's, verified already), store the episode, log the
        wide event; returns the ``sleepy`` reply field (with the patched program and what solved it)."""
        passed, episode_id, fix_id, why, fixed, proof = None, None, None, None, None, None
        if solved is not None:
            fixed, proof, passed = solved.candidate, solved.result, True
        elif task is not None and diag is None:
            passed, why = True, "the program already passes"
        elif task is not None:
            try:
                fixed = apply_edit(task.source, parse_edit(served.completion.text))
                proof = verify(task, fixed)
                passed = proof.passed
                why = None if passed else f"verifier: {proof.signature}"
            except EditError as exc:
                fixed, proof, passed, why = None, None, False, f"edit: {exc}"
            if ctx.store is not None:
                if ctx.run_id is None:
                    ctx.run_id = ctx.store.start_run("serve", {"release": served.release}).id
                ctx.store.upsert_task(task.id, task.pack, task.family, task.origin, diag.key if diag else None,
                                      task.source)
                episode_id = ctx.store.start_episode(ctx.run_id, task.id, served.release)
        event = request_event(operation=operation, model=ctx.model.lm.name, release=served.release, skill=skill,
                              route=how, request=body, served=served, response_id=response_id, stream=stream,
                              episode_id=episode_id, signature=signature or (diag.key if diag else None),
                              passed=passed)
        event |= {"sleepy.task.id": task.id if task else None, "sleepy.task.pack": task.pack if task else None,
                  "sleepy.task.family": task.family if task else None, "sleepy.edit.error": why}
        if episode_id is not None:
            ctx.store.record_attempt(episode_id, event)
            fix = None
            if passed and diag is not None and ctx.memory is not None:
                fix = ctx.memory.make_fix(task, task.source, fixed, diag, "agent", proof, episode_id, served.release)
            fix_id = ctx.store.finish_episode(episode_id, bool(passed), 1, fix)
        log.append(event)
        ctx.responses[response_id] = {"episode_id": episode_id, "task": task, "passed": passed, "fix_id": fix_id,
                                      "skill": skill}
        while len(ctx.responses) > 10_000:
            ctx.responses.popitem(last=False)
        reply = {"skill": skill, "route": how, "signature": event["sleepy.signature.before"],
                 "episode_id": episode_id, "verified": passed, "fix_id": fix_id}
        if task is None:
            return reply
        by = None
        if passed and diag is not None:
            by = solved.origin.split(":")[0] if solved is not None else ("skill" if skill else "model")
        return reply | {"solved_by": by, "origin": solved.origin if solved is not None else "model",
                        "program": fixed if passed else None,
                        "signature_after": proof.signature if proof is not None else why}

    def usage(c) -> dict:
        return {"prompt_tokens": c.input_tokens, "completion_tokens": c.output_tokens,
                "total_tokens": c.input_tokens + c.output_tokens}

    async def complete(request: Request, operation: str):
        try:
            req = await request_of(request, operation)
            task, diag, skill, how, signature, solved, agent_prompt = await asyncio.to_thread(prepare, req)
        except RequestError as exc:
            return error(exc.status, str(exc), code=exc.code)
        except ToolchainMissing as exc:
            return error(503, str(exc), "server_error", "toolchain_missing")
        response_id = f"{'chatcmpl' if operation == 'chat' else 'cmpl'}-{uuid.uuid4().hex[:16]}"
        created, name, prompt, cfg = int(time.time()), req.model, agent_prompt, req.config
        kind = "chat.completion" if operation == "chat" else "text_completion"

        def finish(served: Served) -> dict:
            extra = settle("chat" if operation == "chat" else "text_completion", req.body, served, response_id,
                           skill, how, signature, task, diag, req.stream, solved)
            if ctx.shadow is not None and task is not None and diag is not None:  # queued, never waited for
                ctx.shadow.offer(ShadowJob(response_id, task, diag, cfg, served.release, bool(extra["verified"]),
                                           solved.origin if solved is not None else "model", prompt,
                                           ctx.model.lm.path))
            return extra

        no_model = solved is not None or (task is not None and diag is None)
        if no_model:  # a tool or memory solved it (or nothing to fix): no model call, the verified edit answers
            text = solved.completion.text if solved is not None else ""
            served = Served(Completion(text, 0, 0, [], 0.0), 0, 0.0, ctx.model.name)
        if not req.stream:
            try:
                if not no_model:
                    job = Job(prompt, cfg, skill, source=task.source if task else None)
                    served = (await asyncio.wrap_future(batcher.submit(job)))[0]
            except queue.Full:
                return error(429, "too many requests are waiting; retry later", "rate_limit_exceeded")
            except Exception as exc:
                return error(*generation_failure(exc))
            extra = await asyncio.to_thread(finish, served)
            c = served.completion
            choice = ({"index": 0, "message": {"role": "assistant", "content": c.text}, "finish_reason": "stop"}
                      if operation == "chat" else {"index": 0, "text": c.text, "finish_reason": "stop"})
            return {"id": response_id, "object": kind, "created": created, "model": name, "choices": [choice],
                    "usage": usage(c), "sleepy": extra}

        chunk_kind = "chat.completion.chunk" if operation == "chat" else "text_completion"

        def chunk(text: str | None, finish_reason: str | None = None, **more) -> str:
            if operation == "chat":
                delta = {"content": text} if text is not None else {}
                if more.pop("first", False):
                    delta = {"role": "assistant", **delta}
                choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
            else:
                choice = {"index": 0, "text": text or "", "finish_reason": finish_reason}
            return "data: " + json.dumps({"id": response_id, "object": chunk_kind, "created": created,
                                          "model": name, "choices": [choice], **more}) + "\n\n"

        if no_model:
            extra = await asyncio.to_thread(finish, served)

            async def answered():
                yield chunk(served.completion.text, first=True)
                yield chunk(None, "stop", usage=usage(served.completion), sleepy=extra)
                yield "data: [DONE]\n\n"

            return StreamingResponse(answered(), media_type="text/event-stream")
        loop = asyncio.get_running_loop()
        deltas: asyncio.Queue[str | None] = asyncio.Queue()
        job = Job(prompt, cfg, skill, on_delta=lambda d: loop.call_soon_threadsafe(deltas.put_nowait, d),
                  source=task.source if task else None)
        try:
            future = batcher.submit(job)
        except queue.Full:
            return error(429, "too many requests are waiting; retry later", "rate_limit_exceeded")
        except Closed as exc:
            return error(*generation_failure(exc))

        async def events():
            done = False
            try:
                first = True
                while (delta := await deltas.get()) is not None:
                    yield chunk(delta, first=first)
                    first = False
                try:
                    served = (await asyncio.wrap_future(future))[0]
                except Exception as exc:  # the stream has begun: report in-band, OpenAI style
                    _, message, kind, code = generation_failure(exc)
                    yield "data: " + json.dumps({"error": {"message": message, "type": kind, "code": code}}) + "\n\n"
                    return
                extra = await asyncio.to_thread(finish, served)
                yield chunk(None, "stop", usage=usage(served.completion), sleepy=extra)
                yield "data: [DONE]\n\n"
                done = True
            finally:
                if not done:  # the client went away (or the stream failed): stop generating for nobody
                    job.cancelled.set()
                    log.append({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "gen_ai.operation.name": operation,
                                "gen_ai.response.id": response_id, "sleepy.stream": True, "sleepy.cancelled": True})

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        return await complete(request, "chat")

    @app.post("/v1/completions")
    async def completions(request: Request):
        return await complete(request, "text")

    @app.get("/v1/sleepy/stats")
    def stats():
        """How the batcher has worked so far: what load tests and the dashboard read."""
        sizes = batcher.batch_sizes
        return {"batches": len(sizes), "requests": sum(sizes), "max_batch": max(sizes, default=0),
                "mean_batch": round(sum(sizes) / len(sizes), 3) if sizes else 0.0, "cancelled": batcher.cancelled,
                "queued": batcher.queue.qsize(), "release": ctx.model.name}

    @app.post("/v1/sleepy/feedback")
    async def feedback(request: Request):
        """A person's verdict on an earlier response: accepted, rejected, or corrected (with a program)."""
        try:
            said = parse_feedback(await read_json(request))
        except RequestError as exc:
            return error(exc.status, str(exc), code=exc.code)
        response_id, signal = said.response_id, said.signal
        seen = ctx.responses.get(response_id)
        if seen is None:
            return error(404, f"no response {response_id!r} on this server (responses are kept in memory)",
                         code="response_not_found")
        stored, reason = seen["fix_id"], None
        if signal == "corrected":
            program = said.program
            if program is None:
                return error(400, "a correction needs 'program': the whole corrected program")
            if seen["episode_id"] is None or ctx.memory is None:
                return error(409, "this response carried no sleepy.program/sleepy.pack, so a correction cannot "
                                  "be verified against it", code="no_task")
            from sleepy.loop.correct import CorrectionError, correct

            try:
                stored = await asyncio.to_thread(correct, ctx.store, ctx.memory, seen["episode_id"], program)
            except CorrectionError as exc:
                return error(422, str(exc), code="correction_rejected")
            except ToolchainMissing as exc:
                return error(503, str(exc), "server_error", "toolchain_missing")
        elif signal == "accepted" and seen["episode_id"] is not None and not seen["passed"]:
            reason = "the response's edit does not pass the verifier, so it was not remembered"
        log.append({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "gen_ai.operation.name": "feedback",
                    "gen_ai.response.id": response_id, "sleepy.feedback.signal": signal,
                    "sleepy.episode.id": seen["episode_id"], "sleepy.feedback.fix_id": stored,
                    "sleepy.feedback.note": said.note, "sleepy.feedback.reason": reason})
        return {"recorded": True, "signal": signal, "fix_id": stored if signal != "rejected" else None,
                "reason": reason}

    return batcher
