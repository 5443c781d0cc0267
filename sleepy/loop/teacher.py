"""A teacher behind an OpenAI-compatible endpoint: asked for an edit, trusted only once verified.

The teacher sees the same prompt the agent sees (built by the context manager) as one user
message, answers with an edit in the same format, and the edit is applied and verified in the
sandbox like any other; only a passing program is returned.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass

from sleepy.context.prompt import ContextBuilder
from sleepy.context.view import view_of
from sleepy.tasks.edit import EditError, apply_edit, parse_edit
from sleepy.tasks.signature import Diagnostic
from sleepy.tasks.task import Task
from sleepy.tasks.verify import VerifyResult, verify


class TeacherError(RuntimeError):
    """The teacher endpoint could not be reached or answered nonsense (one line)."""


@dataclass
class TeacherAnswer:
    edit: str
    fixed: str | None
    proof: VerifyResult | None
    reason: str | None  # why it was rejected


class Teacher:
    def __init__(self, url: str, model: str = "sleepy", timeout: float = 120.0, api_key: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.api_key = api_key
        self.requests = 0

    def ask(self, prompt: str) -> str:
        body = json.dumps({"model": self.model, "messages": [{"role": "user", "content": prompt}],
                           "max_tokens": 160, "temperature": 0}).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(f"{self.url}/v1/chat/completions", data=body, headers=headers)
        self.requests += 1
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                data = json.loads(resp.read())
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
            raise TeacherError(f"teacher at {self.url} failed: {exc}") from None
        try:
            return data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise TeacherError(f"teacher at {self.url} gave no chat completion") from None

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
