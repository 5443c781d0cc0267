"""``sleepy serve``: an OpenAI-compatible API over a release (first slice: non-streaming).

``GET /v1/models`` lists the base model and the release's skills; ``POST /v1/chat/completions``
and ``POST /v1/completions`` generate with per-request routing: a ``sleepy`` object in the body may
name a ``skill`` or an error ``signature``; otherwise the base weights answer. The same server is
the night's teacher for another workspace (``--teacher-url``). Errors come back as OpenAI-style
error bodies, never a traceback.
"""

from __future__ import annotations

import threading
import time
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sleepy.adapters.lora import RoutedModel
from sleepy.model.generation import GenerationConfig, generate


def create_app(model: RoutedModel, max_prompt_tokens: int = 2048) -> FastAPI:
    app = FastAPI(title="sleepy", version="0.1")
    lock = threading.Lock()  # one generation at a time on CPU; requests queue here

    def error(status: int, message: str, kind: str = "invalid_request_error", code: str | None = None):
        return JSONResponse(status_code=status, content={"error": {"message": message, "type": kind,
                                                                   "param": None, "code": code}})

    def model_ids() -> list[str]:
        return ["sleepy", *(f"sleepy:{s.name}" for s in (model.release.skills if model.release else []))]

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "sleepy"}
                                           for m in model_ids()]}

    async def body_of(request: Request):
        try:
            body = await request.json()
        except ValueError:
            return None, error(400, "request body is not valid JSON")
        if not isinstance(body, dict):
            return None, error(400, "request body must be a JSON object")
        name = body.get("model", "sleepy")
        if name not in model_ids():
            return None, error(404, f"The model '{name}' does not exist", "invalid_request_error", "model_not_found")
        return body, None

    def run(prompt: str, body: dict) -> tuple[str, int, int] | JSONResponse:
        skill = None
        extra = body.get("sleepy") or {}
        name = body.get("model", "sleepy")
        if name.startswith("sleepy:"):
            skill = name.split(":", 1)[1]
        elif extra.get("skill"):
            skill = extra["skill"]
        elif extra.get("signature"):
            skill = model.skill_for(extra["signature"])
        n_prompt = model.lm.count_tokens(model.lm.format_prompt(prompt))
        if n_prompt > max_prompt_tokens:
            return error(400, f"prompt is {n_prompt} tokens; the limit is {max_prompt_tokens}",
                         code="context_length_exceeded")
        cfg = GenerationConfig(max_new_tokens=int(body.get("max_tokens") or 96),
                               temperature=float(body.get("temperature") or 0.0), n=1, batch_size=1,
                               stop=tuple(body.get("stop") or ()) or GenerationConfig().stop)
        with lock, model.using(skill):
            out = generate(model.lm, [prompt], cfg)[0][0]
        return out.text, out.input_tokens, out.output_tokens

    def usage(n_in: int, n_out: int) -> dict:
        return {"prompt_tokens": n_in, "completion_tokens": n_out, "total_tokens": n_in + n_out}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body, err = await body_of(request)
        if err:
            return err
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
            return error(400, "'messages' must be a non-empty list of {role, content} objects")
        prompt = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") != "system")
        result = run(prompt, body)
        if isinstance(result, JSONResponse):
            return result
        text, n_in, n_out = result
        return {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "sleepy"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": usage(n_in, n_out)}

    @app.post("/v1/completions")
    async def completions(request: Request):
        body, err = await body_of(request)
        if err:
            return err
        prompt = body.get("prompt")
        if not isinstance(prompt, str):
            return error(400, "'prompt' must be a string")
        result = run(prompt, body)
        if isinstance(result, JSONResponse):
            return result
        text, n_in, n_out = result
        return {"id": f"cmpl-{uuid.uuid4().hex[:12]}", "object": "text_completion", "created": int(time.time()),
                "model": body.get("model", "sleepy"),
                "choices": [{"index": 0, "text": text, "finish_reason": "stop"}], "usage": usage(n_in, n_out)}

    return app
