"""Inference behind an OpenAI-compatible server: vLLM, llama.cpp's server, Ollama, or ``sleepy serve``.

Why a second backend: the models people run for code sit behind such servers, often on another
machine; the day should be able to use them with everything else unchanged. So :class:`RemoteLM`
has the surface of :class:`sleepy.model.loader.LoadedModel` that the agent uses (``name``,
``count_tokens``, ``generate``) and :class:`RemoteModel` the surface of the release runner
(``skill_for``, ``using``, ``name``): the agent, its tools and memory (tried before the model at
every step) never ask which backend they talk to.

What differs, and why:

* A skill is asked for by name, as the request's ``model``: vLLM serves each LoRA adapter under the
  name given in ``--lora-modules NAME=PATH`` (``sleepy export --format peft`` writes that command),
  and ``sleepy serve`` serves skill ``S`` as ``sleepy:S``. :func:`connect` reads the server's
  ``/v1/models`` once and picks, per skill of the release, whichever of the two it lists; a skill
  the server does not list is not routed to (its tasks go to the base model, and a note says so), so
  the events never claim a skill that did not answer.
* The server decodes on its own: constrained anchors and names (:mod:`sleepy.model.constrain`) need
  the logits, so they are off (a note says so) and ``sources`` is ignored.
* Its tokenizer is not here: prompt budgets count tokens with :func:`estimate_tokens` (a bound from
  above for code, so a prompt the context manager fits never overflows the server's window).
* Each sample is one chat completion (``n`` is not universal: ``sleepy serve`` and some llama.cpp
  builds refuse it), sent side by side so a batching server (vLLM, ``sleepy serve``) batches them.

Bad input (a server that does not answer, a refused API key, a model the server does not serve) is a
:class:`RemoteError` with one line naming the problem; :func:`connect` checks all three before a day
writes anything. The ``openai`` package is used when it is installed (its retries and typed errors);
otherwise plain ``urllib``: no dependency is added.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal, Protocol

from sleepy.model.generation import Completion, GenerationConfig, _cut

CATCH_ALL = "*"  # a router key applied to every task (sleepy.adapters.lora.ANY; not imported: model sits below)
BYTES_PER_TOKEN = 3  # code tokenizers average 3.5-4.5 bytes a token: dividing by 3 over-counts, never under
MAX_PARALLEL = 8  # requests in flight at once: enough for a server to batch, few enough for a shared one
PROBE_TIMEOUT_S = 15.0  # the first look at a server (no retry): one that does not answer fails in seconds
NO_KEY = "EMPTY"  # what an OpenAI client sends to a server without keys (vLLM's documented placeholder)

Transport = Literal["openai", "urllib"]


class RemoteError(RuntimeError):
    """The server cannot be used: unreachable, a refused key, an unknown model, a malformed answer (one line)."""


def api_base(url: str) -> str:
    """The server's API root, ending in ``/v1``: users write both ``http://host:8000`` and ``.../v1``
    (vLLM's and Ollama's docs give the latter, the ``openai`` package wants it)."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise RemoteError(f"--base-url {url!r}: give an http:// or https:// URL, e.g. http://127.0.0.1:8000/v1")
    return url if url.endswith("/v1") else url + "/v1"


def api_key_from_env(var: str | None, flag: str = "--api-key-env") -> str | None:
    """The key held by environment variable ``var`` (named on the command line so the key itself never is)."""
    if not var:
        return None
    key = os.environ.get(var)
    if not key:
        raise RemoteError(f"{flag} {var}: that environment variable is not set (or empty)")
    return key


@dataclass(frozen=True)
class Endpoint:
    """Where a model is served and how to reach it. Crosses from the command line to the backend."""

    base_url: str  # the API root, ending in /v1 (see :func:`api_base`)
    model: str  # the served model's name, as the server lists it
    api_key: str | None = field(default=None, repr=False)  # never printed, never stored
    timeout_s: float = 120.0  # one completion on a busy server
    retries: int = 2  # on a dropped connection, 429 or 5xx, with backoff
    key_flag: str = "--api-key-env"  # the option that gives the key, named in the error a refused key gets

    @classmethod
    def of(cls, base_url: str, model: str, api_key_env: str | None = None, key_flag: str = "--api-key-env",
           **more) -> Endpoint:
        return cls(api_base(base_url), model, api_key_from_env(api_key_env, key_flag), key_flag=key_flag, **more)


@dataclass(frozen=True)
class ChatAnswer:
    """One chat completion, whichever client fetched it."""

    text: str
    prompt_tokens: int
    completion_tokens: int


def _line(text: object, limit: int = 240) -> str:
    """A server's words as part of one line: whitespace collapsed, length capped."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[:limit - 1] + "…"


def status_error(ep: Endpoint, status: int, message: str, model: str | None = None) -> RemoteError:
    """The one line for an HTTP error status from the server."""
    if status in (401, 403):
        given = "refused the API key" if ep.api_key else "wants an API key"
        return RemoteError(f"the server at {ep.base_url} {given} ({status}): give its key with {ep.key_flag} VAR")
    if status == 404 and model is not None:
        return RemoteError(f"the server at {ep.base_url} does not serve model {model!r} (404: {_line(message)})")
    return RemoteError(f"the server at {ep.base_url} answered {status}: {_line(message)}")


def unreachable(ep: Endpoint, reason: object, waited_s: float | None = None) -> RemoteError:
    """The one line for a server that cannot be reached (``waited_s``: it took the connection, never answered)."""
    if waited_s is not None:
        return RemoteError(f"the server at {ep.base_url} did not answer within {waited_s:g} s")
    return RemoteError(f"no server answers at {ep.base_url} ({_line(reason, 120)}): is it running, on that port?")


def _answer(ep: Endpoint, data: object) -> ChatAnswer:
    """The text and token counts of a chat completion body, or a one-line error naming what is missing."""
    try:
        text = data["choices"][0]["message"]["content"] or ""  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        raise RemoteError(f"the server at {ep.base_url} gave no chat completion: {_line(data, 120)}") from None
    usage = data.get("usage") or {}  # type: ignore[union-attr]
    return ChatAnswer(str(text), int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))


class Client(Protocol):
    """What the backend needs of a client: the served models (None: the server has no list) and one chat."""

    def models(self) -> list[str] | None: ...

    def chat(self, body: dict) -> ChatAnswer: ...


class UrllibClient:
    """The standard library's HTTP: what runs where the ``openai`` package is not installed."""

    def __init__(self, ep: Endpoint) -> None:
        self.ep = ep

    def _call(self, path: str, body: dict | None, timeout: float, retries: int) -> object:
        headers = {"Authorization": f"Bearer {self.ep.api_key or NO_KEY}", "Accept": "application/json"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        for attempt in range(retries + 1):
            req = urllib.request.Request(self.ep.base_url + path, data=data, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    return json.loads(resp.read())
            except urllib.error.HTTPError as exc:
                if exc.code in (429, 500, 502, 503, 504) and attempt < retries:
                    time.sleep(0.5 * 2**attempt)
                    continue
                raw = exc.read()
                try:
                    message = json.loads(raw)["error"]["message"]
                except (ValueError, KeyError, TypeError):
                    message = raw.decode("utf-8", "replace") or exc.reason
                raise _HTTPStatus(exc.code, str(message)) from None
            except (TimeoutError, urllib.error.URLError, ConnectionError) as exc:
                timed_out = isinstance(exc, TimeoutError) or isinstance(getattr(exc, "reason", None), TimeoutError)
                if attempt < retries and not timed_out:
                    time.sleep(0.5 * 2**attempt)
                    continue
                raise unreachable(self.ep, getattr(exc, "reason", exc), timeout if timed_out else None) from None
            except ValueError:
                raise RemoteError(f"the server at {self.ep.base_url} answered {path} with something not JSON") from None
        raise AssertionError("unreachable")

    def models(self) -> list[str] | None:
        try:
            data = self._call("/models", None, min(self.ep.timeout_s, PROBE_TIMEOUT_S), 0)
        except _HTTPStatus as exc:
            if exc.status == 404:
                return None
            raise status_error(self.ep, exc.status, exc.message) from None
        try:
            return [str(m["id"]) for m in data["data"]]  # type: ignore[index]
        except (KeyError, TypeError):
            return None

    def chat(self, body: dict) -> ChatAnswer:
        try:
            return _answer(self.ep, self._call("/chat/completions", body, self.ep.timeout_s, self.ep.retries))
        except _HTTPStatus as exc:
            raise status_error(self.ep, exc.status, exc.message, body["model"] if exc.status == 404 else None) from None


class _HTTPStatus(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class OpenAIClient:
    """The ``openai`` package's client (retries with backoff, typed errors), where it is installed."""

    def __init__(self, ep: Endpoint) -> None:
        import openai

        self.ep, self.openai = ep, openai
        self.client = openai.OpenAI(base_url=ep.base_url, api_key=ep.api_key or NO_KEY, timeout=ep.timeout_s,
                                    max_retries=ep.retries)

    @contextmanager
    def _errors(self, timeout: float, model: str | None = None) -> Iterator[None]:
        openai = self.openai
        try:
            yield
        except openai.APITimeoutError:
            raise unreachable(self.ep, "timeout", timeout) from None
        except openai.APIConnectionError as exc:
            raise unreachable(self.ep, exc.__cause__ or exc) from None
        except openai.APIStatusError as exc:
            body = exc.body
            message = body.get("message", body) if isinstance(body, dict) else (body or exc.message)
            raise status_error(self.ep, exc.status_code, str(message), model) from None
        except openai.APIError as exc:  # a body that is not a completion
            raise RemoteError(f"the server at {self.ep.base_url} answered oddly: {_line(exc)}") from None

    def models(self) -> list[str] | None:
        timeout = min(self.ep.timeout_s, PROBE_TIMEOUT_S)
        with self._errors(timeout):
            try:
                page = self.client.with_options(timeout=timeout, max_retries=0).models.list()
            except self.openai.NotFoundError:  # a server with no model list (the check is then skipped)
                return None
            return [m.id for m in page]

    def chat(self, body: dict) -> ChatAnswer:
        body = dict(body)
        with self._errors(self.ep.timeout_s, body["model"]):
            reply = self.client.chat.completions.with_raw_response.create(**body)
            data = json.loads(reply.text)
        return _answer(self.ep, data)


def client_for(ep: Endpoint, kind: Transport | None = None) -> Client:
    """The ``openai`` package's client when it is installed (or asked for), else ``urllib``'s."""
    if kind is None:
        try:
            import openai  # noqa: F401
            kind = "openai"
        except ImportError:
            kind = "urllib"
    return OpenAIClient(ep) if kind == "openai" else UrllibClient(ep)


def estimate_tokens(text: str) -> int:
    """Tokens of ``text`` for a tokenizer we do not have: UTF-8 bytes over :data:`BYTES_PER_TOKEN`, rounded up."""
    return -(-len(text.encode("utf-8")) // BYTES_PER_TOKEN)


class RemoteLM:
    """A served model with the generation surface of a local one (:class:`sleepy.model.loader.LoadedModel`)."""

    chat = True  # the prompt goes as one user message; the server applies its own chat template
    introduced = None  # constrained names are off (the server decodes)
    device = "remote"
    dtype = "server"

    def __init__(self, ep: Endpoint, client: Client | None = None) -> None:
        self.endpoint = ep
        self.client = client or client_for(ep)
        self.name = ep.model
        self.path = ep.base_url
        self.request_model = ep.model  # what requests ask for now: the base model or a skill's adapter name
        self.requests = 0

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def format_prompt(self, prompt: str) -> str:
        return prompt  # the server formats it

    def generate(self, prompts: list[str], cfg: GenerationConfig | None = None,
                 sources: list[str] | None = None) -> list[list[Completion]]:
        """``cfg.n`` completions for each prompt, in prompt order, stop sequences cut off (as
        :func:`sleepy.model.generation.generate`); ``sources`` is accepted and unused (no constraints)."""
        cfg = cfg or GenerationConfig()
        model = self.request_model
        bodies = []
        for prompt in prompts:
            for j in range(cfg.n):
                body = {"model": model, "messages": [{"role": "user", "content": prompt}],
                        "max_tokens": cfg.max_new_tokens, "temperature": cfg.temperature, "seed": cfg.seed + j}
                if cfg.temperature > 0:
                    body["top_p"] = cfg.top_p
                if cfg.stop:
                    body["stop"] = list(cfg.stop)
                bodies.append(body)
        began = time.perf_counter()
        if len(bodies) <= 1:
            answers = [self.client.chat(b) for b in bodies]
        else:
            with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(bodies), max(1, cfg.batch_size))) as pool:
                futures = [pool.submit(self.client.chat, b) for b in bodies]
                try:
                    answers = [f.result() for f in futures]
                except RemoteError:
                    for f in futures:
                        f.cancel()
                    raise
        self.requests += len(bodies)
        seconds = time.perf_counter() - began
        done = [Completion(_cut(a.text, cfg.stop), a.prompt_tokens, a.completion_tokens, [], seconds) for a in answers]
        return [done[i * cfg.n:(i + 1) * cfg.n] for i in range(len(prompts))]


class RemoteModel:
    """A release's routing over a served model: the surface of :class:`sleepy.adapters.lora.RoutedModel`.

    ``adapters`` maps each routed skill to the model name the server serves it under; a skill missing
    there is not routed to (its tasks use the base model)."""

    def __init__(self, lm: RemoteLM, release_id: str | None, router: Mapping[str, str],
                 adapters: Mapping[str, str]) -> None:
        self.lm = lm
        self.release_id = release_id
        self.router = {sig: skill for sig, skill in router.items() if skill in adapters}
        self.adapters = dict(adapters)

    @property
    def name(self) -> str:
        return self.release_id or "base"

    @property
    def cache_key(self) -> str:
        """Names what answers: the release (its router) on this server's model."""
        return f"{self.name}-openai-{self.lm.path}-{self.lm.name}"

    def skill_for(self, signature: str | None) -> str | None:
        if signature and signature in self.router:
            return self.router[signature]
        return self.router.get(CATCH_ALL)

    @contextmanager
    def using(self, skill: str | None) -> Iterator[None]:
        """Ask for one skill's adapter by name (vLLM's ``--lora-modules`` convention), or the base model."""
        before = self.lm.request_model
        self.lm.request_model = self.adapters[skill] if skill is not None else self.lm.name
        try:
            yield
        finally:
            self.lm.request_model = before


def adapter_names(served: list[str] | None, model: str, skills: list[str]) -> tuple[dict[str, str], list[str]]:
    """Per skill, the name the server serves it under, and the skills it does not serve.

    vLLM lists an adapter under its ``--lora-modules`` name (the skill's name); ``sleepy serve`` as
    ``<model>:<skill>``. A server with no model list is trusted to follow vLLM's convention."""
    if served is None:
        return {s: s for s in skills}, []
    names, missing = {}, []
    for s in skills:
        name = next((n for n in (s, f"{model}:{s}") if n in served), None)
        if name is None:
            missing.append(s)
        else:
            names[s] = name
    return names, missing


def connect(ep: Endpoint, release_id: str | None = None, router: Mapping[str, str] | None = None,
            client: Client | None = None) -> tuple[RemoteModel, list[str]]:
    """The served model with a release's routing, checked before any work: the server answers, takes the
    key and serves the model. Returns it and notes worth one line each (skills not served, constraints off)."""
    lm = RemoteLM(ep, client)
    served = lm.client.models()
    if served is not None and ep.model not in served:
        listed = ", ".join(served[:8]) + (", ..." if len(served) > 8 else "") if served else "nothing"
        raise RemoteError(f"the server at {ep.base_url} does not serve model {ep.model!r} (it serves: {listed})")
    router = dict(router or {})
    adapters, missing = adapter_names(served, ep.model, sorted(set(router.values())))
    notes = [f"release {release_id}: skill {s} is not served at {ep.base_url} (vLLM: --lora-modules {s}=PATH, "
             "from sleepy export --format peft); its tasks use the base model" for s in missing]
    notes.append(f"generating through {ep.model} at {ep.base_url}; constrained anchors and names are off "
                 "(the server decodes)")
    return RemoteModel(lm, release_id, router, adapters), notes
