"""Repairs of Rust errors rustc explains but offers no change for: numbers of two types in one
arithmetic expression, a sum or product collected into another number type, a private item, a field left
out of a struct literal, a field read on an ``Option``, a ``?`` that does not fit its function, references
collected into owned values, and a reference kept across a change of what it points into.

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
from sleepy.tasks.syntax import parse, walk

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


_PRIVATE = re.compile(r"^(?:function|struct|enum|constant|static|trait|type alias|module|method|associated function)"
                      r" `(?P<name>\w+)` is private")
_PRIVATE_FIELD = re.compile(r"^field `(?P<name>\w+)` of struct `\w+` is private")
_MISSING_FIELDS = re.compile(r"^missing fields? (?P<names>.+?) in initializer of")
_OPTION_FIELD = re.compile(r"^no (?:field|method named) `\w+` (?:on type|found for enum) `?(?:Option|Result)\b")
_ITEMS = {"function_item", "struct_item", "enum_item", "const_item", "static_item", "trait_item", "type_item",
          "mod_item", "function_signature_item"}


def repairs(source: str, diag: Diagnostic) -> list[Repair]:
    """Repairs for ``diag`` on ``source``: casts for an E0277 on numbers, ``pub`` for a private item, a
    ``Default::default()`` for a field left out, the value of an ``Option`` or ``Result`` before its field;
    [] when it is none of those errors."""
    if not diag.primary or diag.primary.byte_start < 0:
        return []
    data = source.encode()
    root = parse("rust", source).root_node
    if diag.code == "E0277":
        return [*_arithmetic(root, data, diag), *_collected(root, data, diag), *_question_mark(root, data, diag),
                *_collected_references(data, diag)]
    if diag.code in ("E0603", "E0624", "E0616"):
        return list(_made_public(root, data, diag))
    if diag.code == "E0063":
        return list(_defaulted_fields(root, data, diag))
    if diag.code in ("E0609", "E0599") and _OPTION_FIELD.search(diag.message):
        return list(_unwrapped(data, diag))
    if diag.code in ("E0502", "E0505", "E0506"):
        return list(_owned_copies(root, data, diag))
    return []


_BUILT_FROM = re.compile(r"a value of type `(?P<target>[^`]+)` cannot be built from an iterator over elements of "
                         r"type `&(?:'\w+ )?(?P<item>[^`]+)`")


def _returned_error(root, data: bytes, at: int) -> str | None:
    """``E`` of the ``Result<T, E>`` the function around byte ``at`` returns (None: not a Result)."""
    node = root.descendant_for_byte_range(at, at)
    while node is not None and node.type not in ("function_item", "closure_expression"):
        node = node.parent
    returned = node.child_by_field_name("return_type") if node is not None else None
    text = data[returned.start_byte:returned.end_byte].decode() if returned is not None else ""
    found = re.fullmatch(r"(?:std::result::)?Result<.+,\s*(?P<error>[^,<>]+(?:<[^<>]*>)?)>", text.strip())
    return found.group("error").strip() if found else None


def _question_mark(root, data: bytes, diag: Diagnostic) -> Iterator[Repair]:
    """Three ways a ``?`` does not fit (rustc's span is the ``?``): the error is another type than the function's
    ``String`` (``.map_err(|e| e.to_string())?``); an ``Option`` in a function that returns a ``Result`` (the
    ``None`` turned into the function's error, ``String`` or ``&str``); the function returns neither
    (``.unwrap()``: the value or a panic the program's tests will show)."""
    at, end = diag.primary.byte_start, diag.primary.byte_end
    if data[at:end] != b"?":
        return
    message = diag.message
    if "couldn't convert the error to `String`" in message:
        yield Repair(_insert(data, at, ".map_err(|e| e.to_string())"), f"{diag.code}: the error as a String")
    elif "not `Option`s, in a function that returns `Result`" in message:
        error = _returned_error(root, data, at)
        fills = _own_ok_or(root, data, at)  # the file's own way of turning None into this error, first
        fills += [fill] if (fill := {"String": '.ok_or_else(|| "missing value".to_string())'}.get(error or "") or (
            '.ok_or("missing value")' if error and error.startswith("&") and "str" in error else None)) else []
        for fill in list(dict.fromkeys(fills))[:3]:
            yield Repair(_insert(data, at, fill), f"{diag.code}: None as the function's error: {fill}")
    elif "can only be used in a function that returns" in message:
        yield Repair(_replaced(data, at, end, ".unwrap()"), f"{diag.code}: .unwrap() for ?")


def _own_ok_or(root, data: bytes, at: int) -> list[str]:
    """``.ok_or(...)`` / ``.ok_or_else(...)`` calls written elsewhere, those of the function around ``at``
    first: ``.ok_or(PacketError::TooShort(bytes.len()))`` is how this code makes its error from a None."""
    function = root.descendant_for_byte_range(at, at)
    while function is not None and function.type != "function_item":
        function = function.parent
    found: list[tuple[bool, str]] = []
    for node in walk(root):
        if node.type != "call_expression":
            continue
        callee = node.child_by_field_name("function")
        field = callee.child_by_field_name("field") if callee is not None and callee.type == "field_expression" \
            else None
        if field is None or data[field.start_byte:field.end_byte] not in (b"ok_or", b"ok_or_else"):
            continue
        inside = function is not None and function.start_byte <= node.start_byte < function.end_byte
        found.append((not inside, "." + data[field.start_byte:node.end_byte].decode()))
    return [text for _, text in sorted(found, key=lambda f: f[0])]


def _collected_references(data: bytes, diag: Diagnostic) -> Iterator[Repair]:
    """``Vec<String>`` collected from ``&String``s: ``.cloned()`` first (``&str`` into ``String``s: each made
    owned); rustc's span is ``collect``."""
    match = _BUILT_FROM.search(diag.message)
    dot = data.rfind(b".", 0, diag.primary.byte_start)
    if match is None or dot < 0 or data[diag.primary.byte_start:diag.primary.byte_end] != b"collect":
        return
    item, target = match.group("item"), match.group("target")
    if item == "str" and "String" in target:
        yield Repair(_insert(data, dot, ".map(|s| s.to_string())"), f"{diag.code}: each &str made a String")
    elif re.search(rf"\b{re.escape(item)}\b", target):
        yield Repair(_insert(data, dot, ".cloned()"), f"{diag.code}: .cloned() before collect")


def _owned_copies(root, data: bytes, diag: Diagnostic) -> Iterator[Repair]:
    """A reference kept across a change of what it points into (``let first = &v[0]; v.push(4); first``):
    the binding that is "later used" holds its own value instead: ``v[0]`` (a ``Copy`` value),
    ``v[0].clone()``, or ``.cloned()`` after a call that returns ``Option<&T>`` (``v.first()``)."""
    later = [sp for sp in diag.spans if (sp.label or "").endswith("later used here") and sp.byte_start >= 0]
    names = {m.group(1) for sp in later  # `signal`, `*head`, `first.len()`: the variable used
             if (m := re.match(r"[*&(\s]*(\w+)", data[sp.byte_start:sp.byte_end].decode(errors="replace")))}
    for node in walk(root):
        if node.type != "let_declaration":
            continue
        pattern, value = node.child_by_field_name("pattern"), node.child_by_field_name("value")
        name = data[pattern.start_byte:pattern.end_byte].decode() if pattern is not None else None
        if value is None or name not in names or node.start_byte > diag.primary.byte_start:
            continue  # not a binding used later, or bound after the conflicting borrow
        text = data[value.start_byte:value.end_byte].decode()
        tries = []
        if value.type == "reference_expression":
            inner = value.child_by_field_name("value")
            inner_text = data[inner.start_byte:inner.end_byte].decode() if inner is not None else text[1:]
            tries = [inner_text, f"{inner_text}.clone()"]
        elif value.type in ("call_expression", "method_call_expression") or text.endswith(")"):
            tries = [f"{text}.cloned()", f"{text}.copied()", f"{text}.clone()"]
        rest = data[node.end_byte:].decode()
        plain = re.sub(rf"\*\s*{re.escape(name)}\b", name, rest)  # `*head` once head holds the value itself
        for new in tries:
            head = _replaced(data[:node.end_byte], value.start_byte, value.end_byte, new)
            for after in dict.fromkeys((plain, rest)):
                yield Repair(head + after, f"{diag.code}: {name} holds {new}")


def _replaced(data: bytes, start: int, end: int, text: str) -> str:
    """The program with bytes ``start:end`` replaced by ``text`` (tree-sitter and rustc give byte offsets)."""
    return (data[:start] + text.encode() + data[end:]).decode()


def _insert(data: bytes, at: int, text: str) -> str:
    return _replaced(data, at, at, text)


def _made_public(root, data: bytes, diag: Diagnostic) -> Iterator[Repair]:
    """``function `apply_interest` is private`` (a module's item used from outside it): the item's definition,
    or the field's, made ``pub``; every definition of that name without a visibility, in the file."""
    match = _PRIVATE.search(diag.message) or _PRIVATE_FIELD.search(diag.message)
    if match is None:
        return
    name, field = match.group("name"), diag.code == "E0616"
    wanted = {"field_declaration"} if field else _ITEMS
    for node in walk(root):
        if node.type not in wanted:
            continue
        named = node.child_by_field_name("name")
        if named is None or data[named.start_byte:named.end_byte].decode() != name or \
                any(c.type == "visibility_modifier" for c in node.children):
            continue
        start = next((c.start_byte for c in node.children if c.type not in ("attribute_item", "line_comment")),
                     node.start_byte)
        yield Repair(_insert(data, start, "pub "), f"{diag.code}: pub {name}")


def _defaulted_fields(root, data: bytes, diag: Diagnostic) -> Iterator[Repair]:
    """``missing field `verbose` in initializer``: the struct literal given ``verbose: Default::default()``
    (false, 0, an empty String or Vec, None), for each field rustc names."""
    match = _MISSING_FIELDS.search(diag.message)
    if match is None:
        return
    names = re.findall(r"`(\w+)`", match.group("names"))
    node = root.descendant_for_byte_range(diag.primary.byte_start, diag.primary.byte_end)
    while node is not None and node.type != "struct_expression":
        node = node.parent
    body = node.child_by_field_name("body") if node is not None else None
    if body is None or not names:
        return
    inner = data[body.start_byte + 1:body.end_byte - 1].decode().rstrip()
    sep = "" if not inner.strip() or inner.endswith(",") else ","
    close = body.end_byte - 1
    pad = " " if b"\n" not in data[body.start_byte:body.end_byte] else "\n" + " " * (body.start_point[1] + 4)
    added = "".join(f"{pad}{n}: Default::default()," for n in names)
    head = data[:body.start_byte + 1] + (inner + sep).encode()
    tail = (" " if pad == " " else "\n" + " " * body.start_point[1]).encode() + data[close:]
    yield Repair((head + added.encode() + tail).decode(), f"{diag.code}: {', '.join(names)} as Default::default()")


def _unwrapped(data: bytes, diag: Diagnostic) -> Iterator[Repair]:
    """``no field `handle` on type `Option<&User>```: the value taken out first, ``?`` (the function returns
    an ``Option`` or ``Result`` too) or ``.unwrap()``; rustc's span is the field's name, after the dot."""
    dot = data.rfind(b".", 0, diag.primary.byte_start)
    if dot < 0 or data[dot + 1:diag.primary.byte_start].strip():
        return
    for how in ("?", ".unwrap()"):
        name = data[diag.primary.byte_start:diag.primary.byte_end].decode(errors="replace")
        yield Repair(_insert(data, dot, how), f"{diag.code}: {how} before .{name}")


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
        program = _replaced(data, target.start_byte, target.end_byte, new)
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
    program = _replaced(data, node.start_byte, node.end_byte, new)
    yield Repair(program, f"{diag.code}: {method} as {item}, then as {target}")
