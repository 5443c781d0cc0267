"""One tree-sitter parser per language, shared by what reads programs as trees: the context manager's look-up
tools (definitions, impls, call sites) and the Rust repairs (the operands of a binary expression rustc
points at). Kept with the tasks so both layers reach it without one importing the other."""

from __future__ import annotations

import functools


@functools.cache
def _parser(lang: str):
    from tree_sitter import Language, Parser

    if lang == "rust":
        import tree_sitter_rust as grammar
    else:
        import tree_sitter_python as grammar
    return Parser(Language(grammar.language()))


def parse(lang: str, source: str):
    """The tree-sitter tree of ``source`` (byte offsets are of its UTF-8 encoding)."""
    return _parser(lang).parse(source.encode())


def walk(node):
    """``node`` and every node under it, in source order (depth first)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))
