"""Rebuild the prompt from scratch at every step, from typed parts under a token budget.

Nothing is dragged forward from earlier turns: each call assembles the instruction, the verifier's
latest error (message, span labels, notes), the code (all of it when small, a slice around the
error spans when large), recalled memories and the last failed edit of this task. When the budget
is short, parts go in priority order: memories first, then the previous attempt, then the code
shrinks to a narrower slice. Training and inference both build prompts here, so they never drift.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sleepy.tasks.edit import diff_to_edit
from sleepy.tasks.signature import Diagnostic

INSTRUCTION = ("Fix the program so it passes. Answer with an edit: '@@ LINE', then '- old text' lines "
               "and '+ new text' lines.")
EDIT_HEADER = "### edit\n"
FULL_CODE_LINES = 80
MAX_NOTES = 3
MAX_SUGGESTIONS = 2
MAX_SUGGESTION_LINES = 8


@dataclass
class Memory:
    """A verified fix recalled for this prompt: the error it fixed, the code line, and the edit."""

    signature: str
    message: str
    code_line: str
    edit: str
    source_id: str = ""


@dataclass
class PartInfo:
    name: str
    tokens: int
    included: bool
    priority: int


@dataclass
class Prompt:
    text: str
    parts: list[PartInfo] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return sum(p.tokens for p in self.parts if p.included)


def approx_tokens(text: str) -> int:
    """A tokenizer-free estimate (about 3.5 characters a token for code)."""
    return max(1, int(len(text) / 3.5))


def render_error(diag: Diagnostic, lang: str) -> str:
    head = f"error[{diag.code}]: {diag.message}" if lang == "rust" else f"{diag.code}: {diag.message}"
    lines = [head.rstrip()]
    for span in diag.spans:
        label = f" {span.label}" if span.label else ""
        lines.append(f" {span.line_start}:{span.col_start}{label}")
    lines += [f" {note}" for note in diag.notes[:MAX_NOTES]]
    return "\n".join(lines)


def render_suggestions(diag: Diagnostic, source: str, tried: list[tuple[str, str]] | None = None) -> str:
    """The verifier's own suggested changes, written in the edit format the model answers in.

    rustc often says exactly what to change ("consider borrowing here: `&scores`"); shown as an
    edit, right before the model writes its own, taking it is a short copy, while the model still
    decides whether it fits (a suggestion can be wrong: a clone where a borrow is meant). A suggestion
    the agent already applied and verified says what became of it (``tried: E0308``), so the model
    sees it failed rather than copying it again."""
    outcome = dict(tried or [])
    out, seen = [], set()
    for fixit in diag.fixits:
        fixed = fixit.apply(source)
        if fixed is None or fixed == source:
            continue
        edit = diff_to_edit(source, fixed).render()
        if edit.count("\n") > MAX_SUGGESTION_LINES or edit in seen:
            continue
        seen.add(edit)
        message = (fixit.message.strip() or "suggestion").splitlines()[0][:80]
        if edit in outcome:
            message += f"; tried: {outcome[edit]}"
        out.append(f"### suggested ({message})\n{edit}")
        if len(out) == MAX_SUGGESTIONS:
            break
    return "".join(out)


def pack_from_prompt(prompt: str) -> str | None:
    """The pack a prompt's ``### task`` header names (the inverse of the instruction part), or None."""
    m = re.search(r"^### task (\w+)", prompt, re.M)
    return m.group(1) if m else None


def signature_from_prompt(prompt: str) -> str | None:
    """The error signature a prompt's ``### error`` part names (what the router needs), or None.

    The inverse of :func:`render_error`, so a client that sends the prompt the agent would build
    (``sleepy serve`` requests) is routed to the same skill as the day loop would pick."""
    from sleepy.tasks.signature import python_key, rust_key

    lines = prompt.split("### error\n", 1)
    if len(lines) < 2:
        return None
    head = lines[1].split("\n", 1)[0].strip()
    rust = re.match(r"error(?:\[(\w+)\])?: (.+)", head)
    if rust:
        code = rust.group(1)
        return rust_key(None if code in (None, "nocode") else code, rust.group(2))
    py = re.match(r"([A-Za-z_][\w.]*): ?(.*)", head)
    return python_key(py.group(1), py.group(2)) if py else None


def render_code(source: str, focus: list[int] | None = None, radius: int | None = None) -> str:
    """Numbered code; with ``radius``, only lines within ``radius`` of a focus line (gaps marked)."""
    lines = source.splitlines()
    keep = range(1, len(lines) + 1)
    if radius is not None and focus:
        wanted = {n for f in focus for n in range(f - radius, f + radius + 1)}
        keep = [n for n in keep if n in wanted]
    out, last = [], 0
    for n in keep:
        if n != last + 1:
            out.append("...")
        out.append(f"{n}| {lines[n - 1]}")
        last = n
    if last != len(lines):
        out.append("...")
    return "\n".join(out)


def render_memory(m: Memory) -> str:
    return f"{m.message}\n> {m.code_line.strip()}\n{m.edit.rstrip()}"


class ContextBuilder:
    """Assembles prompts; ``count_tokens`` is the model's tokenizer (or :func:`approx_tokens`)."""

    def __init__(self, count_tokens: Callable[[str], int] = approx_tokens, budget: int = 1024,
                 max_memories: int = 2) -> None:
        self.count_tokens = count_tokens
        self.budget = budget
        self.max_memories = max_memories

    def for_task(self, task, source: str, diag: Diagnostic | None, files: dict[str, str] | None = None,
                 **parts) -> Prompt:
        """The prompt for ``task`` (a :class:`sleepy.tasks.task.Task`) as its ``source`` stands, with what the
        look-up tools add (from ``files``, the project's other files as they stand, else as its folder holds
        them). The agent, the night's training examples and the teacher all build here."""
        from sleepy.context.lookup import lookups_for

        found = lookups_for(task, source, diag, FULL_CODE_LINES, files)
        return self.build(task.pack, source, diag, lookups=found, file=task.file, **parts)

    def build(self, lang: str, source: str, diag: Diagnostic | None, memories: list[Memory] | None = None,
              previous_edit: str | None = None, previous_error: str | None = None,
              tried: list[tuple[str, str]] | None = None, lookups: list | None = None,
              file: str | None = None) -> Prompt:
        """``lookups`` (:class:`sleepy.context.lookup.Lookup`) are the look-up tools' answers: code of other
        files or outside the slice; ``file`` names the code's file where a project has several."""
        focus = sorted({s.line_start for s in diag.spans}) if diag and diag.spans else []
        fixed = [("instruction", 0, f"### task {lang}\n{INSTRUCTION}\n")]
        if diag is not None:
            fixed.append(("error", 1, f"### error\n{render_error(diag, lang)}\n"))
            suggested = render_suggestions(diag, source, tried)
            if suggested:
                fixed.append(("suggested", 1, suggested))
        optional: list[tuple[str, int, str]] = []
        if previous_edit:
            why = f" (failed: {previous_error})" if previous_error else ""
            optional.append(("previous", 3, f"### previous attempt{why}\n{previous_edit.rstrip()}\n"))
        for i, m in enumerate((memories or [])[: self.max_memories]):
            optional.append((f"memory{i}", 4 + i, f"### memory\n{render_memory(m)}\n"))
        for i, found in enumerate(lookups or []):  # shed before memories: the newest kind of part
            optional.append((found.name, 4 + self.max_memories + i, found.render()))
        tail = ("edit", 0, EDIT_HEADER)

        used = sum(self.count_tokens(t) for _, _, t in fixed) + self.count_tokens(tail[2])
        optional.sort(key=lambda p: p[1])
        costs = [self.count_tokens(t) for _, _, t in optional]
        n_lines = source.count("\n") + 1
        radii: list[int | None] = ([None] if n_lines <= FULL_CODE_LINES else []) + [20, 10, 5, 2]
        # Shed in the declared order: memories (lowest priority) first, then the previous attempt,
        # and only then narrow the code.
        choice = None
        for radius in radii:
            code_text = f"### code{' ' + file if file else ''}\n{render_code(source, focus or [1], radius)}\n"
            code_cost = self.count_tokens(code_text)
            for keep in range(len(optional), -1, -1):
                if used + code_cost + sum(costs[:keep]) <= self.budget:
                    choice = (code_text, keep)
                    break
            if choice:
                break
        if choice is None:
            choice = (code_text, 0)
        code = ("code", 2, choice[0])
        included = {name: i < choice[1] for i, (name, _, _) in enumerate(optional)}
        order = [*fixed, code, *[o for o in optional if included[o[0]]], tail]
        memory_first = [p for p in order if p[0].startswith("memory")]
        last = [p for p in order if p[0] == "suggested"]
        body = [p for p in order if not p[0].startswith("memory") and p[0] not in ("edit", "suggested")]
        # Memories and then the verifier's suggestions sit just before the edit header, closest to
        # where the model starts writing.
        text = "".join(t for _, _, t in body + memory_first + last) + EDIT_HEADER
        parts = [PartInfo(n, self.count_tokens(t), True, p) for n, p, t in [*fixed, code]]
        parts += [PartInfo(n, self.count_tokens(t), included[n], p) for n, p, t in optional]
        parts.append(PartInfo("edit", self.count_tokens(EDIT_HEADER), True, 0))
        return Prompt(text, parts)
