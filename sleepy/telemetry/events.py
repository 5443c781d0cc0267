"""Wide events: one flat record per attempt with every field that can explain it.

Names follow the OpenTelemetry GenAI semantic conventions where one exists (``gen_ai.*``);
everything specific to sleepy lives under ``sleepy.*``. A record is a plain dict so it can be
stored as JSON, queried, and shipped to any OTel-compatible backend unchanged.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

REQUIRED_FIELDS = (
    "time", "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.request.temperature",
    "gen_ai.request.max_tokens", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
    "sleepy.run.id", "sleepy.run.kind", "sleepy.episode.id", "sleepy.attempt", "sleepy.sample",
    "sleepy.task.id", "sleepy.task.pack", "sleepy.task.family", "sleepy.task.origin",
    "sleepy.signature.before", "sleepy.signature.after", "sleepy.release", "sleepy.skill",
    "sleepy.context.parts", "sleepy.context.tokens", "sleepy.memory.recalled", "sleepy.sampled_token_ids",
    "sleepy.latency.generate_s", "sleepy.latency.verify_s", "sleepy.verifier.passed", "sleepy.verifier.stage",
    "sleepy.edit", "sleepy.edit.error", "sleepy.edit.origin",
)


@dataclass
class EventContext:
    """What every attempt of one run shares."""

    run_id: int
    run_kind: str  # day | eval
    model: str
    release: str = "base"
    temperature: float = 0.0
    max_tokens: int = 96


def attempt_event(ctx: EventContext, episode_id: int, attempt: int, sample_index: int, step, sample,
                  recalled: list) -> dict:
    """The wide event of one sample of one attempt (``step``: :class:`sleepy.loop.agent.StepResult`)."""
    task = step.work.task
    result = sample.result
    return {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "gen_ai.operation.name": "text_completion",
        "gen_ai.provider.name": "sleepy",
        "gen_ai.request.model": ctx.model,
        "gen_ai.response.model": ctx.model,
        "gen_ai.request.temperature": ctx.temperature,
        "gen_ai.request.max_tokens": ctx.max_tokens,
        "gen_ai.usage.input_tokens": sample.completion.input_tokens,
        "gen_ai.usage.output_tokens": sample.completion.output_tokens,
        "sleepy.run.id": ctx.run_id,
        "sleepy.run.kind": ctx.run_kind,
        "sleepy.episode.id": episode_id,
        "sleepy.attempt": attempt,
        "sleepy.sample": sample_index,
        "sleepy.task.id": task.id,
        "sleepy.task.pack": task.pack,
        "sleepy.task.family": task.family,
        "sleepy.task.origin": task.origin,
        "sleepy.signature.before": step.work.diagnostic.key if step.work.diagnostic else None,
        "sleepy.signature.after": sample.signature_after,
        "sleepy.release": ctx.release,
        "sleepy.skill": step.skill,
        "sleepy.context.parts": [{"name": p.name, "tokens": p.tokens, "included": p.included,
                                  "priority": p.priority} for p in step.prompt_parts],
        "sleepy.context.tokens": sum(p.tokens for p in step.prompt_parts if p.included),
        "sleepy.memory.recalled": [{"fix_id": r.fix.id, "how": r.how, "score": round(r.score, 4),
                                    "signature": r.fix.signature} for r in recalled],
        "sleepy.sampled_token_ids": sample.completion.token_ids,
        "sleepy.latency.generate_s": round(step.generate_seconds if sample.origin == "model" else 0.0, 4),
        "sleepy.latency.verify_s": round(sample.verify_seconds, 4),
        "sleepy.verifier.passed": sample.passed,
        "sleepy.verifier.stage": result.stage if result else "edit",
        "sleepy.edit": sample.completion.text,
        "sleepy.edit.error": sample.edit_error,
        "sleepy.edit.origin": sample.origin,
        "sleepy.edit.hint": sample.note or None,  # the tool hint a candidate came from
        "sleepy.tools.skipped": step.notes,  # hints a tool could not apply this step, each with the reason
    }


def request_event(*, operation: str, model: str, release: str, skill: str | None, route: str, request: dict,
                  served, response_id: str, stream: bool, episode_id: int | None = None,
                  signature: str | None = None, passed: bool | None = None) -> dict:
    """The wide event of one ``sleepy serve`` request (``served``: :class:`sleepy.serve.batcher.Served`)."""
    c = served.completion
    return {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": "sleepy",
        "gen_ai.request.model": request.get("model", "sleepy"),
        "gen_ai.response.model": model,
        "gen_ai.response.id": response_id,
        "gen_ai.request.temperature": request.get("temperature") or 0.0,
        "gen_ai.request.max_tokens": request.get("max_tokens"),
        "gen_ai.usage.input_tokens": c.input_tokens,
        "gen_ai.usage.output_tokens": c.output_tokens,
        "sleepy.release": release,
        "sleepy.skill": skill,
        "sleepy.route": route,  # model-name | skill | signature | prompt | program | base
        "sleepy.signature.before": signature,
        "sleepy.episode.id": episode_id,
        "sleepy.verifier.passed": passed,
        "sleepy.stream": stream,
        "sleepy.batch.size": served.batch_size,
        "sleepy.latency.queue_s": served.queued_s,
        "sleepy.latency.generate_s": round(c.seconds, 4),
        "sleepy.sampled_token_ids": c.token_ids,
        "sleepy.edit": c.text,
    }


class EventLog:
    """An append-only JSON-lines file of wide events: one whole line per write, flushed at once."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def append(self, event: dict) -> None:
        line = json.dumps(event, default=str) + "\n"
        with self._lock, self.path.open("a") as fh:
            fh.write(line)
            fh.flush()

    def read(self, limit: int | None = None) -> list[dict]:
        if not self.path.is_file():
            return []
        lines = self.path.read_text().splitlines()
        return [json.loads(x) for x in (lines[-limit:] if limit else lines) if x.strip()]
