"""Constrained decoding of edits: a ``-`` line can only be text that is in the program, and a name in a
``+`` line only one the prompt holds or the model learned to introduce.

Why: the tiny model's edits mostly fail because their anchor (the ``-`` text) is not in the program:
it rewrites a line from template habit (``(parts`` where the program says ``(stock``) instead of
copying it from 500 tokens back. The anchor carries no decision of its own beyond *where*, so the
decoder lets the model choose only among continuations that keep the ``-`` line a substring of a
program line near the hunk's line number (the window ``apply_edit`` searches). The model still picks
the place, the kind of fix and every ``+`` line; short-range copying from its own ``-`` line into
the ``+`` line is what a small model does well. The same processor works for any HF tokenizer whose
single-token decodes are exact (byte-level BPE: the bundled model, Qwen, Llama 3). Where they are not
(SentencePiece-style tokenizers drop a token's leading space when it is decoded alone), both
constraints are switched off for that model, with the reason logged once (:func:`constraints_usable`).
"""

from __future__ import annotations

import logging
import re
from functools import cache

from sleepy.context.prompt import pack_from_prompt
from sleepy.tasks.edit import WINDOW

_HUNK = re.compile(r"^@@\s*(-?\d+)\s*$", re.M)
MAX_TOKEN_CHARS = 32


log = logging.getLogger("sleepy.model")
# edit-shaped text with indentation, a tab, digits and the spacing a tokenizer's clean-up would change
_PROBE = ("@@ 7\n-     let total = inventory_value(stock);\n+     let total = inventory_value(stock.clone());\n"
          "+\tif x .y , z and not items[10]:  # done\n### end\n")


@cache
def decode_problem(tokenizer) -> str | None:
    """Why the constraints cannot reason about this tokenizer one token at a time, or None when they can.

    Both processors read each token's text alone (the token tables) and the answer's text as a whole, so
    decoding must give the text back and single-token decodes must concatenate to it."""
    ids = tokenizer(_PROBE, add_special_tokens=False)["input_ids"]
    whole = tokenizer.decode(ids)
    if whole != _PROBE:
        return "decoding does not give edit text back unchanged (unknown characters or space clean-up)"
    if "".join(tokenizer.decode([i]) for i in ids) != whole:
        return "its tokens decoded one at a time do not spell the text (SentencePiece-style leading spaces)"
    return None


_reported: set[tuple[str, str]] = set()


def constraints_usable(tokenizer, model_name: str) -> bool:
    """Whether anchor and name constraints can run with this tokenizer; if not, say why once per model."""
    problem = decode_problem(tokenizer)
    if problem is not None and (model_name, problem) not in _reported:
        _reported.add((model_name, problem))
        log.warning("constrained anchors and names are off for %s: %s", model_name, problem)
    return problem is None


def vocabulary(tokenizer):
    """(id, text) of every token a constraint can reason about: not special, and decoding to whole
    characters on its own (a byte of a multi-byte character decodes to U+FFFD and is left unchecked)."""
    special = set(tokenizer.all_special_ids)
    for i in range(len(tokenizer)):
        if i in special:
            continue
        text = tokenizer.decode([i])
        if text and "\ufffd" not in text:
            yield i, text


class TokenTable:
    """Each vocabulary id's decoded text, indexed for prefix lookups (built once per tokenizer)."""

    def __init__(self, tokenizer) -> None:
        self.by_text: dict[str, list[int]] = {}
        self.with_newline: list[tuple[str, int]] = []  # (text before the first newline, id)
        self.unusable: set[int] = set()  # would open the next line with text the constraint cannot check
        self.longest = 1
        for i, text in vocabulary(tokenizer):
            if "\n" in text:
                after = text[text.index("\n") + 1:]
                if after and after not in ("-", "- ") and not after.startswith(("+", "@", "#", "\n")):
                    self.unusable.add(i)
                    continue
                self.with_newline.append((text[:text.index("\n")], i))
            else:
                self.by_text.setdefault(text, []).append(i)
                self.longest = max(self.longest, min(len(text), MAX_TOKEN_CHARS))
        # tokens that open a line with "-": the only ones checked at a line start
        self.dash = [(t, ids) for t, ids in self.by_text.items() if t.startswith("-")]
        self.dash += [(t + "\n", [i]) for t, i in self.with_newline if t.startswith("-")]
        self.space = [(t, ids) for t, ids in self.by_text.items() if t.startswith(" ")]
        self.space += [(t + "\n", [i]) for t, i in self.with_newline if t.startswith(" ")]


@cache
def token_table(tokenizer) -> TokenTable:
    """One table per tokenizer: building it decodes the whole vocabulary."""
    return TokenTable(tokenizer)


def window_text(source: str, answer: str) -> str | None:
    """The program lines the current ``-`` line may copy from, joined by newlines (None: no hunk yet)."""
    heads = list(_HUNK.finditer(answer))
    if not heads:
        return None
    lines = source.splitlines()
    hint = int(heads[-1].group(1))
    done_old = sum(1 for ln in answer[heads[-1].end():].split("\n")[1:-1] if ln.startswith("-"))
    if not 1 <= hint <= len(lines):
        return "\n".join(lines)
    lo, hi = max(0, hint - 1 - WINDOW), min(len(lines), hint + WINDOW + done_old)
    return "\n".join(lines[lo:hi])


def _occurrences(window: str, prefix: str):
    if not prefix:
        yield from range(len(window) + 1)
        return
    pos = window.find(prefix)
    while pos != -1:
        yield pos
        pos = window.find(prefix, pos + 1)


def allowed_ids(table: TokenTable, window: str, prefix: str) -> set[int]:
    """Tokens that keep ``prefix`` + token a substring of one line of ``window``; a token that ends
    the line is allowed once the anchor holds more than blanks."""
    out: set[int] = set()
    for pos in _occurrences(window, prefix):
        start = pos + len(prefix)
        end = window.find("\n", start)
        rest = window[start:end if end != -1 else len(window)]
        for n in range(1, min(table.longest, len(rest)) + 1):
            out.update(table.by_text.get(rest[:n], ()))
        for before, i in table.with_newline:
            if rest.startswith(before) and (prefix + before).strip():
                out.add(i)
    return out


def _body_fits(body: str, window: str) -> bool:
    """A token that opens an anchor: the anchor text it carries must be in one program line."""
    if "\n" in body:
        body = body[:body.index("\n")]
        return bool(body.strip()) and body in window
    return body in window


def anchor_state(answer: str) -> tuple[str, str] | None:
    """(how the current line began, the anchor text so far) when the next token may write anchor
    text: ``("-", text)`` inside a ``-`` line, ``("-bare", "")`` right after a lone ``-``,
    ``("start", "")`` at the start of a line; None elsewhere."""
    line = answer[answer.rfind("\n") + 1:]
    if line.startswith("- "):
        return "-", line[2:]
    if line == "-":
        return "-bare", ""
    if line == "":
        return "start", ""
    return None


def constraint_for(table: TokenTable, source: str, answer: str) -> tuple[bool, set[int]] | None:
    """What may come next: ``(True, ids)`` only these, ``(False, ids)`` anything but these, or None
    (free). Inside a ``-`` line only program text; at a line start (or after a lone ``-``) a token that
    opens an anchor must carry program text, any other line is free."""
    state = anchor_state(answer)
    window = window_text(source, answer) if state else None
    if state is None or window is None:
        return None
    how, prefix = state
    if how == "-":
        return True, allowed_ids(table, window, prefix)
    bad = set(table.unusable)
    for text, ids in table.dash if how == "start" else table.space:
        rest = text[1:] if how == "start" else text  # what follows the "-"
        if rest and not (rest.startswith(" ") and _body_fits(rest[1:], window)):
            bad.update(ids)  # "-x" with no space, or an anchor that is not in the program
    if how == "-bare":
        return True, {i for t, ids in table.space for i in ids if i not in bad}
    return False, bad


def allowed_for(table: TokenTable, source: str, answer: str) -> set[int] | None:
    """The token ids allowed next (for tests and tools), or None when the next token is free."""
    rule = constraint_for(table, source, answer)
    if rule is None:
        return None
    only, ids = rule
    if only:
        return ids
    every = {i for v in table.by_text.values() for i in v} | {i for _, i in table.with_newline}
    return every - ids


class AnchorCopy:
    """A transformers logits processor: rows whose answer is inside a ``-`` line may only continue it
    with program text. A row whose constraint would leave nothing finite is left free (the edit then
    fails on its own, with a reason, as without the constraint)."""

    def __init__(self, tokenizer, sources: list[str], prompt_width: int) -> None:
        self.tokenizer = tokenizer
        self.table = token_table(tokenizer)
        self.sources = sources
        self.width = prompt_width

    def __call__(self, input_ids, scores):
        import torch

        for row, source in enumerate(self.sources):
            if not source:
                continue
            answer = self.tokenizer.decode(input_ids[row, self.width:].tolist(), skip_special_tokens=True)
            rule = constraint_for(self.table, source, answer)
            if rule is None:
                continue
            only, ids = rule
            index = torch.tensor([i for i in ids if i < scores.shape[1]], dtype=torch.long, device=scores.device)
            if only:
                allowed = torch.zeros(scores.shape[1], dtype=torch.bool, device=scores.device)
                allowed[index] = True
            else:
                allowed = torch.ones(scores.shape[1], dtype=torch.bool, device=scores.device)
                allowed[index] = False
            row_scores = scores[row].masked_fill(~allowed, float("-inf"))
            if torch.isfinite(row_scores).any():  # else leave the row free rather than sample from nothing
                scores[row] = row_scores
        return scores


# --------------------------------------------------------------------------- names in '+' lines

NAMES_FILE = "names.json"  # in a model folder: per pack, the names its training edits introduced
_NAME = re.compile(r"[A-Za-z_]\w*")


def introduced_names(examples) -> dict[str, list[str]]:
    """Per pack, every name a training edit writes in a ``+`` line that its own prompt does not hold:
    the names a model learned to bring in (``clone``, ``HashMap``, ``defaultdict``), as opposed to names
    it must copy. ``examples``: (pack, prompt, completion) triples."""
    out: dict[str, set[str]] = {}
    for pack, prompt, completion in examples:
        plus = "\n".join(ln[1:] for ln in completion.splitlines() if ln.startswith("+"))
        out.setdefault(pack, set()).update(set(_NAME.findall(plus)) - set(_NAME.findall(prompt)))
    return {pack: sorted(names) for pack, names in sorted(out.items())}


class NameTable:
    """Each vocabulary id split for name checks: the word characters it starts with (which continue the
    name being written), whether it then leaves that name, the names it holds whole, and the name it
    ends inside (built once per tokenizer)."""

    def __init__(self, tokenizer) -> None:
        self.rows: list[tuple[int, str, bool, tuple[str, ...], str]] = []
        for i, text in vocabulary(tokenizer):
            lead = re.match(r"\w*", text).group(0)
            rest = text[len(lead):]
            if not rest:
                self.rows.append((i, lead, False, (), ""))
                continue
            inner = re.findall(r"\w+", rest)
            tail = inner.pop() if inner and re.search(r"\w$", rest) else ""
            self.rows.append((i, lead, True, tuple(inner), tail))


@cache
def name_table(tokenizer) -> NameTable:
    return NameTable(tokenizer)


def plus_line_word(answer: str) -> str | None:
    """The name being written at the end of a ``+`` line ('' between names); None where names are free:
    outside ``+`` lines, in a string, char or lifetime, or a comment."""
    line = answer[answer.rfind("\n") + 1:]
    if not line.startswith("+"):
        return None
    body = line[1:]
    if body.count('"') % 2 or body.count("'") % 2 or "//" in body or "#" in body:
        return None
    return re.search(r"\w*$", body).group(0)


def _is_number(word: str) -> bool:
    return bool(word) and word[0].isdigit()


class NameCopy:
    """A transformers logits processor: a name in a ``+`` line must be in the prompt (the program, the
    errors and rustc's suggestions, recalled fixes) or among the names the model's training edits
    introduced (``names.json``). Why: a small model that copies ``port`` writes ``pelay``; it picks the
    right kind of fix far more often than it spells an unfamiliar name. Numbers, strings and comments
    are free; a row the rule would leave with no word token to write, or whose name is already off the
    list, is left free."""

    def __init__(self, tokenizer, prompts: list[str], introduced: dict[str, frozenset[str]], prompt_width: int):
        self.tokenizer = tokenizer
        self.table = name_table(tokenizer)
        self.width = prompt_width
        self.names: list[frozenset[str] | None] = []  # per row; None: a row whose names are free
        for prompt in prompts:
            pack = pack_from_prompt(prompt)
            self.names.append(None if pack not in introduced else
                              frozenset(_NAME.findall(prompt)) | introduced[pack])
        self.prefixes = [frozenset(n[:k] for n in names for k in range(1, len(n) + 1)) if names else frozenset()
                         for names in self.names]
        self._masks: dict[tuple[int, str], object] = {}

    def banned(self, row: int, word: str) -> list[int]:
        """Token ids that would write a name outside the allowed ones, given the name written so far."""
        names, prefixes = self.names[row], self.prefixes[row]
        bad = []
        for i, lead, leaves, inner, tail in self.table.rows:
            name = word + lead
            if _is_number(name):
                continue
            if not leaves:
                ok = not name or name in prefixes
            else:
                ok = (not name or name in names) and all(w in names or _is_number(w) for w in inner) and \
                    (not tail or _is_number(tail) or tail in prefixes)
            if not ok:
                bad.append(i)
        return bad

    def __call__(self, input_ids, scores):
        import torch

        for row in range(input_ids.shape[0]):
            if self.names[row] is None:
                continue
            answer = self.tokenizer.decode(input_ids[row, self.width:].tolist(), skip_special_tokens=True)
            word = plus_line_word(answer)
            if word is None or _is_number(word) or (word and word not in self.prefixes[row]):
                continue  # free, or a name already off the list (bytes of a non-ASCII letter): leave it
            key = (row, word)
            if key not in self._masks:
                bad = self.banned(row, word)
                if len(bad) == len(self.table.rows):  # nothing a name could continue with: leave the row free
                    self._masks[key] = None
                else:
                    mask = torch.zeros(scores.shape[1], dtype=torch.bool)
                    mask[torch.tensor([i for i in bad if i < scores.shape[1]], dtype=torch.long)] = True
                    self._masks[key] = mask.to(scores.device)
            if self._masks[key] is not None:
                scores[row] = scores[row].masked_fill(self._masks[key], float("-inf"))
        return scores
