"""Prompt assembly: parts, token budget and priorities."""

from sleepy.context.prompt import ContextBuilder, Memory, render_code
from sleepy.tasks.signature import Diagnostic, Span

DIAG = Diagnostic("rust:E0382:borrow-of-moved-value", "E0382", "borrow of moved value: `s`",
                  [Span("main.rs", 50, 50, 9, 10, "value borrowed here after move")], ["help: clone it"])
LONG = "".join(f"let v{i} = {i};\n" for i in range(1, 121))
MEM = Memory("rust:E0382:borrow-of-moved-value", "E0382: borrow of moved value", "let t = s;",
             "@@ 3\n- s;\n+ s.clone();\n")


def included(prompt):
    return {p.name for p in prompt.parts if p.included}


def test_everything_fits_a_generous_budget():
    p = ContextBuilder(budget=10_000).build("rust", LONG, DIAG, [MEM], "@@ 1\n- x\n+ y\n", "anchor not found")
    assert {"instruction", "error", "code", "previous", "memory0", "edit"} <= included(p)
    assert "value borrowed here after move" in p.text and "s.clone()" in p.text
    assert p.text.endswith("### edit\n") and p.text.index("### memory") > p.text.index("### code")


def test_budget_drops_memory_before_previous_and_narrows_code():
    full = ContextBuilder(budget=10_000).build("rust", LONG, DIAG, [MEM], "@@ 1\n- x\n+ y\n")
    memory_cost = next(part.tokens for part in full.parts if part.name == "memory0")
    tight = ContextBuilder(budget=full.tokens - memory_cost // 2)
    p = tight.build("rust", LONG, DIAG, [MEM], "@@ 1\n- x\n+ y\n")
    assert "memory0" not in included(p) and "previous" in included(p)
    assert p.tokens <= tight.budget and "30| let v30 = 30;" in p.text  # code not narrowed yet
    very_tight = ContextBuilder(budget=180).build("rust", LONG, DIAG, [MEM], "@@ 1\n- x\n+ y\n")
    assert "50| let v50 = 50;" in very_tight.text and "1| let v1 = 1;" not in very_tight.text
    assert {"instruction", "error", "code"} <= included(very_tight)


def test_long_code_is_sliced_around_the_error():
    text = render_code(LONG, [50], radius=2)
    assert text.splitlines() == ["...", "48| let v48 = 48;", "49| let v49 = 49;", "50| let v50 = 50;",
                                 "51| let v51 = 51;", "52| let v52 = 52;", "..."]


def test_part_sizes_are_counted_with_the_given_tokenizer():
    p = ContextBuilder(count_tokens=lambda t: len(t.split()), budget=10_000).build("python", "x = 1\n", None)
    sizes = {part.name: part.tokens for part in p.parts}
    code_words = ["###", "code", "1|", "x", "=", "1"]
    assert sizes["code"] == len(code_words)


def test_signature_from_prompt_reads_back_what_render_error_wrote():
    from sleepy.context.prompt import signature_from_prompt

    assert signature_from_prompt("### task rust\n### error\nerror[E0382]: borrow of moved value: `a`\n 4:9 x\n") \
        == "rust:E0382:borrow-of-moved-value"
    assert signature_from_prompt("### error\nerror[nocode]: expected one of `;`, found `}`\n") \
        == "rust:nocode:expected-one-of-found"  # the key the verifier gives a syntax error
    assert signature_from_prompt("### error\nKeyError: 'north'\n") == "py:KeyError"
    assert signature_from_prompt("### task rust\n### code\n1| fn main() {}\n") is None


def test_verifier_suggestions_are_shown_as_edits_right_before_the_edit_header():
    from sleepy.tasks.signature import Fixit

    src = "fn main() {\n    let v = vec![1];\n    show(v);\n}\n"
    start = src.index("show(v") + len("show(")
    diag = Diagnostic(key="rust:E0308:mismatched-types", code="E0308", message="mismatched types",
                      spans=[Span("main.rs", 3, 3, 10, 11, "expected `&Vec<i32>`, found `Vec<i32>`")],
                      fixits=[Fixit("consider borrowing here", [(start, start, "&")]),
                              Fixit("out of range", [(900, 901, "x")])])
    mem = Memory("rust:E0308:mismatched-types", "E0308: mismatched types", "f(x);", "@@ 1\n- x\n+ &x\n")
    text = ContextBuilder(budget=2000).build("rust", src, diag, [mem]).text
    assert text.endswith("### suggested (consider borrowing here)\n@@ 3\n- (v\n+ (&v\n### edit\n") or \
        text.endswith("### suggested (consider borrowing here)\n@@ 3\n- v)\n+ &v)\n### edit\n"), text[-200:]
    assert text.index("### memory") < text.index("### suggested") and "out of range" not in text
