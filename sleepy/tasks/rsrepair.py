"""Repairs of Rust type errors rustc explains but offers no change for: numbers of two types in one
arithmetic expression, and a sum or product collected into another number type.

Why: ``cannot divide `f64` by `u32``` is among the most common errors in hand-written Rust, and rustc's
help lists the trait implementations instead of the cast. The cast is mechanical once the operands are
known: rustc's span points at the operator (or the ``sum`` call), and the tree-sitter tree gives the
operands around it. Each candidate is one cast; the caller compiles and runs it like any other candidate
(a cast that truncates, say, fails the program's own tests and is dropped).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from sleepy.tasks.pyrepair import Repair
from sleepy.tasks.signature import Diagnostic
from sleepy.tasks.syntax import parse

_NUMBERS = {"i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32", "f64"}
# rustc's wording per operator: which quoted type is the left operand's
_ARITH = [
    (re.compile(r"cannot (?:add|add-assign) `(?P<rhs>[^`]+)` to `(?P<lhs>[^`]+)`"), "+"),
    (re.compile(r"cannot (?:subtract|subtract-assign) `(?P<rhs>[^`]+)` from `(?P<lhs>[^`]+)`"), "-"),
    (re.compile(r"cannot (?:multiply|multiply-assign) `(?P<lhs>[^`]+)` by `(?P<rhs>[^`]+)`"), "*"),
    (re.compile(r"cannot (?:divide|divide-assign) `(?P<lhs>[^`]+)` by `(?P<rhs>[^`]+)`"), "/"),
    (re.compile(r"cannot (?:calculate the remainder of|mod) `(?P<lhs>[^`]+)` divided by `(?P<rhs>[^`]+)`"), "%"),
]
_COLLECT = re.compile(r"a value of type `(?P<target>\w+)` cannot be made by (?P<how>summing|multiplying) an iterator "
                      r"over elements of type `(?P<item>&?\w+)`")


def repairs(source: str, diag: Diagnostic) -> list[Repair]:
    """Casts for ``diag`` (an E0277 on numbers) on ``source``; [] when it is not one of those errors."""
    if diag.code != "E0277" or not diag.primary or diag.primary.byte_start < 0:
        return []
    data = source.encode()
    root = parse("rust", source).root_node
    return [*_arithmetic(root, data, diag), *_collected(root, data, diag)]


def _concrete(kind: str) -> str | None:
    """A number type to cast to: the type itself, ``f64`` for a float literal, None for an integer literal
    (it takes whatever type the other side has once that side is cast)."""
    if kind in _NUMBERS:
        return kind
    return "f64" if kind == "{float}" else None


def _cast(text: str, kind: str) -> str:
    simple = re.fullmatch(r"[\w.]+(?:\(\))?", text) is not None
    return f"({text if simple else '(' + text + ')'} as {kind})"


def _arithmetic(root, data: bytes, diag: Diagnostic) -> Iterator[Repair]:
    found = next(((m, op) for pattern, op in _ARITH if (m := pattern.search(diag.message))), None)
    if found is None:
        return
    match, op = found
    lhs_type, rhs_type = match.group("lhs"), match.group("rhs")
    span = diag.primary
    node = root.descendant_for_byte_range(span.byte_start, span.byte_end)
    while node is not None and node.type not in ("binary_expression", "compound_assignment_expr"):
        node = node.parent
    if node is None:
        return
    left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
    if left is None or right is None:
        return
    text = {n.id: data[n.start_byte:n.end_byte].decode() for n in (left, right)}
    to_left, to_right = _concrete(lhs_type), _concrete(rhs_type)
    tries: list[tuple] = []  # (operand, its new text, how), most likely first
    if node.type == "compound_assignment_expr":  # `total += x`: only the right side can change
        if to_left:
            tries.append((right, _cast(text[right.id], to_left), f"{text[right.id]} as {to_left}"))
    else:
        for literal, other in ((right, to_left), (left, to_right)):  # `x / 2` with x: f64 -> `x / 2.0`
            if other in ("f32", "f64") and text[literal.id].isdigit():
                tries.append((literal, text[literal.id] + ".0", f"{text[literal.id]} as a float literal"))
        if to_right and to_right.startswith("f") and not (to_left or "").startswith("f"):
            tries.append((left, _cast(text[left.id], to_right), f"{text[left.id]} as {to_right}"))
        if to_left and rhs_type != "{float}":
            tries.append((right, _cast(text[right.id], to_left), f"{text[right.id]} as {to_left}"))
        if to_right and lhs_type != "{float}" and not any(t[0] is left for t in tries):
            tries.append((left, _cast(text[left.id], to_right), f"{text[left.id]} as {to_right}"))
    for target, new, how in tries:
        program = (data[:target.start_byte] + new.encode() + data[target.end_byte:]).decode()
        yield Repair(program, f"{diag.code}: {how} ({lhs_type} {op} {rhs_type})")


def _collected(root, data: bytes, diag: Diagnostic) -> Iterator[Repair]:
    """``let n: u32 = lens.sum();`` over ``usize``: summed as ``usize``, then cast (``.sum::<usize>() as u32``)."""
    match = _COLLECT.search(diag.message)
    if match is None:
        return
    target, item = match.group("target"), match.group("item").lstrip("&")
    if target not in _NUMBERS or item not in _NUMBERS:
        return
    method = "sum" if match.group("how") == "summing" else "product"
    span = diag.primary
    node = root.descendant_for_byte_range(span.byte_start, span.byte_end)
    while node is not None and node.type != "call_expression":
        node = node.parent
    if node is None:
        return
    call = data[node.start_byte:node.end_byte].decode()
    head = re.match(rf"(?s)(.*\.){method}(?:::<[^>]*>)?\(\)$", call)
    if head is None:
        return
    new = f"({head.group(1)}{method}::<{item}>() as {target})"
    program = (data[:node.start_byte] + new.encode() + data[node.end_byte:]).decode()
    yield Repair(program, f"{diag.code}: {method} as {item}, then as {target}")
