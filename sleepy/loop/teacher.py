"""A teacher behind an OpenAI-compatible endpoint: asked for an edit, trusted only once verified.

The teacher sees the same prompt the agent sees (built by the context manager) as one user
message, answers with an edit in the same format, and the edit is applied and verified in the
sandbox like any other; only a passing program is returned.
"""

from __future__ import annotations

from dataclasses import dataclass

from sleepy.context.prompt import ContextBuilder
from sleepy.context.view import view_of
from sleepy.model.remote import Endpoint, RemoteError, api_base, api_key_from_env, client_for
from sleepy.tasks.edit import EditError, apply_edit, parse_edit
from sleepy.tasks.signature import Diagnostic
from sleepy.tasks.task import Task
from sleepy.tasks.verify import VerifyResult, verify

KEY_FLAG = "--teacher-api-key-env"


class TeacherError(RuntimeError):
    """The teacher endpoint could not be reached, refused the key, or answered nonsense (one line)."""


@dataclass
class TeacherAnswer:
    edit: str
    fixed: str | None
    proof: VerifyResult | None
    reason: str | None  # why it was rejected


class Teacher:
    """A stronger model behind an OpenAI-compatible server, asked through the day's client
    (:mod:`sleepy.model.remote`), so a keyed server (``--teacher-api-key-env VAR``) and its one-line errors
    work the same for both. ``model`` None: ``sleepy`` where the server lists it (``sleepy serve``), else the
    one model it serves (a vLLM or Ollama teacher need not be named)."""

    def __init__(self, url: str, model: str | None = None, timeout: float = 120.0, api_key: str | None = None,
                 api_key_env: str | None = None) -> None:
        try:
            key = api_key or api_key_from_env(api_key_env, KEY_FLAG)
            self.endpoint = Endpoint(api_base(url), model or "sleepy", key, timeout, key_flag=KEY_FLAG)
        except RemoteError as exc:
            raise TeacherError(f"teacher: {exc}") from None
        self.url = self.endpoint.base_url
        self.model = model
        self.client = client_for(self.endpoint)
        self.requests = 0
        self._checked = False

    def check(self) -> str:
        """The model the teacher is asked as, once the server answered, took the key and serves it (asked once:
        ``sleepy night`` calls it before anything is written, so a wrong key costs nothing)."""
        if self._checked:
            return self.model or "sleepy"
        try:
            served = self.client.models()
        except RemoteError as exc:
            raise TeacherError(f"teacher: {exc}") from None
        wanted = self.model or "sleepy"
        if served is None or wanted in served:
            self.model = wanted
        elif self.model is None and len(served) == 1:
            self.model = served[0]
        else:
            raise TeacherError(f"teacher: the server at {self.url} does not serve model {wanted!r} "
                               f"(it serves: {', '.join(served[:8]) or 'nothing'})")
        self._checked = True
        return self.model

    def ask(self, prompt: str) -> str:
        model = self.check()
        body = {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": 160,
                "temperature": 0}
        self.requests += 1
        try:
            return self.client.chat(body).text
        except RemoteError as exc:
            raise TeacherError(f"teacher: {exc}") from None

    def fix(self, task: Task, diag: Diagnostic, builder: ContextBuilder) -> TeacherAnswer:
        view = view_of(task.pack, task.source)  # the teacher is shown what the model is shown
        edit = self.ask(builder.for_task(task, view.shown, view.diagnostic(diag)).text)
        try:
            fixed = view.to_original(apply_edit(view.shown, parse_edit(edit)))
        except EditError as exc:
            return TeacherAnswer(edit, None, None, f"edit rejected: {exc}")
        if fixed is None:
            return TeacherAnswer(edit, None, None, "edit rejected: it cannot be carried back onto the program")
        proof = verify(task, fixed)
        if not proof.passed:
            return TeacherAnswer(edit, None, proof, f"fix fails the verifier: {proof.signature}")
        return TeacherAnswer(edit, fixed, proof, None)
