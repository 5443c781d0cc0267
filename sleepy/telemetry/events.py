"""Wide events: one flat record per attempt with every field that can explain it.

Names follow the OpenTelemetry GenAI semantic conventions where one exists (``gen_ai.*``);
everything specific to sleepy lives under ``sleepy.*``. A record is a plain dict so it can be
stored as JSON, queried, and shipped to any OTel-compatible backend unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

REQUIRED_FIELDS = (
    "time", "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.request.temperature",
    "gen_ai.request.max_tokens", "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens",
    "sleepy.run.id", "sleepy.run.kind", "sleepy.episode.id", "sleepy.attempt", "sleepy.sample",
    "sleepy.task.id", "sleepy.task.pack", "sleepy.task.family", "sleepy.task.origin",
    "sleepy.signature.before", "sleepy.signature.after", "sleepy.release", "sleepy.skill",
    "sleepy.context.parts", "sleepy.context.tokens", "sleepy.memory.recalled", "sleepy.sampled_token_ids",
    "sleepy.latency.generate_s", "sleepy.latency.verify_s", "sleepy.verifier.passed", "sleepy.verifier.stage",
    "sleepy.edit", "sleepy.edit.error",
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
        "sleepy.latency.generate_s": round(step.generate_seconds, 4),
        "sleepy.latency.verify_s": round(sample.verify_seconds, 4),
        "sleepy.verifier.passed": sample.passed,
        "sleepy.verifier.stage": result.stage if result else "edit",
        "sleepy.edit": sample.completion.text,
        "sleepy.edit.error": sample.edit_error,
    }
