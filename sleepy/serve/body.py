"""Request bodies, parsed and validated in one place: every malformed request is a 4xx OpenAI-style error.

Why one place: fuzzing found 500s wherever a route trusted a field's type (a list where a skill name was
expected is unhashable; ``Infinity`` in ``max_tokens`` overflows ``int``; a lone surrogate fails when the
text is encoded; an integer over 2^63 overflows SQLite and ``torch.manual_seed``; JSON nested 100k
deep overflows the stack). Here the raw body is parsed strictly (no ``NaN``/``Infinity``, bounded depth,
valid Unicode, 64-bit integers) and each route's fields are checked before any route logic sees them.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from fastapi.responses import JSONResponse

from sleepy.model.generation import GenerationConfig

MAX_NEW_TOKENS = 1024
MAX_DEPTH = 64  # no OpenAI body nests deeper than a handful of levels
INT_LIMIT = 2**63  # SQLite and torch take signed 64-bit integers
PACKS = ("rust", "python")
SIGNALS = ("accepted", "rejected", "corrected")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NUMBERS = "max_tokens, temperature, top_p and seed must be numbers"


class RequestError(ValueError):
    """A request the server refuses: its status, one-line message and OpenAI ``code``."""

    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None,
          headers: dict[str, str] | None = None) -> JSONResponse:
    """An OpenAI-style error body: what the ``openai`` package and curl users expect."""
    return JSONResponse(status_code=status, headers=headers,
                        content={"error": {"message": message, "type": kind, "param": None, "code": code}})


class _NotJSON(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity``: Python reads them, JSON (RFC 8259) does not have them."""


def _no_constant(name: str):
    raise _NotJSON(f"{name} is not a JSON number")


def parse_json(raw: bytes) -> dict:
    """The body as a JSON object whose every value the routes can use without a crash."""
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except _NotJSON as exc:
        raise RequestError(400, f"request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise RequestError(400, f"request body nests deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # includes bytes that are not UTF-8/16/32
        raise RequestError(400, "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise RequestError(400, "request body must be a JSON object")
    check_values(body)
    return body


def check_values(value: object) -> None:
    """Refuse what JSON parses but nothing downstream can hold: too deep, lone surrogates (not encodable as
    UTF-8), non-finite floats (``1e999``), integers beyond 64 bits. Iterative: a recursive walk would
    overflow on exactly the bodies it must refuse."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise RequestError(400, f"request body nests deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -INT_LIMIT <= item < INT_LIMIT:
                raise RequestError(400, "request body has an integer outside the 64-bit range")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise RequestError(400, "request body has a number too large for a float")
        elif isinstance(item, dict):
            for key, inner in item.items():
                _check_text(key)
                stack.append((inner, depth + 1))
        else:  # a list
            stack.extend((inner, depth + 1) for inner in item)


def _check_text(text: str) -> None:
    if _SURROGATE.search(text):
        raise RequestError(400, "request body has a lone surrogate (text that is not valid Unicode)")


def _optional_text(obj: dict, name: str, where: str = "") -> str | None:
    value = obj.get(name)
    if value is not None and not isinstance(value, str):
        raise RequestError(400, f"'{where}{name}' must be a string")
    return value


@dataclass(frozen=True)
class Route:
    """The ``sleepy`` field of a completion request (``extra_body`` in the ``openai`` package)."""

    skill: str | None = None
    signature: str | None = None
    program: str | None = None
    pack: str | None = None


@dataclass(frozen=True)
class CompletionRequest:
    model: str
    prompt: str
    stream: bool
    config: GenerationConfig
    route: Route
    body: dict  # as sent: the wide event records the request


def parse_completion(body: dict, operation: str) -> CompletionRequest:
    """A chat (``operation == "chat"``) or text completion request, every field checked."""
    model = body.get("model", "sleepy")
    if not isinstance(model, str):
        raise RequestError(400, "'model' must be a string")
    prompt = chat_prompt(body.get("messages")) if operation == "chat" else body.get("prompt")
    if not isinstance(prompt, str):
        raise RequestError(400, "'prompt' must be a string")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise RequestError(400, "'stream' must be true or false")
    return CompletionRequest(model, prompt, bool(stream), generation_config(body), parse_route(body.get("sleepy")),
                             body)


def parse_route(extra: object) -> Route:
    if extra is None:
        return Route()
    if not isinstance(extra, dict):
        raise RequestError(400, "'sleepy' must be an object (skill, signature, pack, program)")
    skill, signature = _optional_text(extra, "skill", "sleepy."), _optional_text(extra, "signature", "sleepy.")
    program, pack = extra.get("program"), extra.get("pack")
    if program is not None and (not isinstance(program, str) or pack not in PACKS):
        raise RequestError(400, "'sleepy.program' needs a string program and 'sleepy.pack' rust or python")
    return Route(skill or None, signature or None, program, pack if program is not None else None)


def chat_prompt(messages: object) -> str:
    """The prompt of a chat request: every non-system message's text, one per line."""
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise RequestError(400, "'messages' must be a non-empty list of {role, content} objects")
    for m in messages:
        if not isinstance(m.get("role", "user"), str):
            raise RequestError(400, "'messages[].role' must be a string")
    return "\n".join(message_text(m.get("content")) for m in messages if m.get("role") != "system")


def message_text(content: object) -> str:
    """A chat message's text: a string, or OpenAI's list of parts (text parts joined; others skipped)."""
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise RequestError(400, "'messages[].content' must be a string or a list of parts")
    texts = []
    for part in content:
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise RequestError(400, "each part of 'messages[].content' must be an object with a string 'type'")
        if part["type"] == "text":
            if not isinstance(part.get("text"), str):
                raise RequestError(400, "a text part of 'messages[].content' needs a string 'text'")
            texts.append(part["text"])
    return "".join(texts)


def _number(body: dict, name: str, default: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestError(400, _NUMBERS)
    return value


def _whole(value: float, name: str) -> int:
    if isinstance(value, float) and not value.is_integer():
        raise RequestError(400, f"{name} must be an integer")
    return int(value)


def generation_config(body: dict) -> GenerationConfig:
    """Sampling settings, each within the range the model runs with."""
    stop = body.get("stop")
    stop = (stop,) if isinstance(stop, str) else stop
    if stop is not None and (not isinstance(stop, list) or len(stop) > 4
                             or not all(isinstance(x, str) and 0 < len(x) <= 64 for x in stop)):
        raise RequestError(400, "'stop' must be a string or up to 4 strings of 1-64 characters")
    if body.get("n") not in (None, 1):
        raise RequestError(400, "only n=1 is supported")
    max_tokens = _whole(_number(body, "max_tokens", 96), "max_tokens")
    temperature, top_p = _number(body, "temperature", 0.0), _number(body, "top_p", 0.95)
    seed = _whole(_number(body, "seed", 0), "seed")
    if not 1 <= max_tokens <= MAX_NEW_TOKENS:
        raise RequestError(400, f"max_tokens must be between 1 and {MAX_NEW_TOKENS}")
    if not 0.0 <= temperature <= 2.0 or not 0.0 < top_p <= 1.0:
        raise RequestError(400, "temperature must be in [0, 2] and top_p in (0, 1]")
    if not 0 <= seed < INT_LIMIT:
        raise RequestError(400, "seed must be an integer in [0, 2^63)")
    return GenerationConfig(max_new_tokens=max_tokens, temperature=float(temperature), top_p=float(top_p), n=1,
                            batch_size=1, stop=tuple(stop or ()) or GenerationConfig().stop, seed=seed)


@dataclass(frozen=True)
class Feedback:
    response_id: str
    signal: str
    program: str | None
    note: str | None


def parse_feedback(body: dict) -> Feedback:
    signal = body.get("signal")
    if not isinstance(signal, str) or signal not in SIGNALS:
        raise RequestError(400, f"'signal' must be one of {', '.join(SIGNALS)}")
    response_id = body.get("response_id")
    if not isinstance(response_id, str):
        raise RequestError(400, "'response_id' must be a string (the id of an earlier response)")
    return Feedback(response_id, signal, _optional_text(body, "program"), _optional_text(body, "note"))


def parse_rollback(body: dict) -> tuple[str | None, str]:
    """(release to move production to, or None for the one before; why) of the dashboard's rollback."""
    to, why = body.get("to"), body.get("why")
    if to is not None and not isinstance(to, str) or why is not None and not isinstance(why, str):
        raise RequestError(400, "'to' and 'why' must be strings")
    return to or None, why or "rollback from the dashboard"
