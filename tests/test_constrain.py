"""Constrained decoding with the real bundled tokenizer and model: '-' lines can only be program text, names in
'+' lines only the prompt's or those the model's training introduced."""

import re

from sleepy.model.constrain import NameCopy, allowed_for, introduced_names, plus_line_word, token_table
from sleepy.model.generation import GenerationConfig, generate
from sleepy.model.loader import load_model
from sleepy.tasks.edit import parse_edit

SOURCE = """fn inventory_value(items: Vec<u32>) -> u32 {
    items.iter().sum()
}

fn main() {
    let stock = vec![1, 2, 3];
    let total = inventory_value(stock);
    println!("{} {}", total, stock.len());
}
"""

PROMPT = ("### task rust\nFix the program so it passes. Answer with an edit: '@@ LINE', then '- old text' lines "
          "and '+ new text' lines.\n### error\nerror[E0382]: borrow of moved value: `stock`\n 8:39 value borrowed"
          " here after move\n 7:33 value moved here\n### code\n"
          + "".join(f"{i}| {ln}\n" for i, ln in enumerate(SOURCE.splitlines(), 1)) + "### edit\n")


def _texts(lm, ids):
    return {lm.tokenizer.decode([i]) for i in ids}


def test_anchor_continues_only_with_program_text():
    lm = load_model()
    table = token_table(lm.tokenizer)
    allowed = _texts(lm, allowed_for(table, SOURCE, "@@ 7\n- inventory_value(st"))
    assert allowed and all("ock);".startswith(t.split("\n")[0]) for t in allowed)
    assert "\n" not in "".join(t for t in allowed if not t.startswith("\n"))
    # a complete line can only end
    ended = _texts(lm, allowed_for(table, SOURCE, "@@ 7\n-     let total = inventory_value(stock);"))
    assert ended and all(t.startswith("\n") for t in ended)
    # an anchor from another line far outside the window is impossible
    assert allowed_for(table, SOURCE, "@@ 1\n- println!(") == set()
    # outside an anchor the next token is free
    assert allowed_for(table, SOURCE, "@@ 7\n- stock\n+ &sto") is None
    assert allowed_for(table, SOURCE, "") is None


def test_blank_anchor_cannot_end_and_line_starts_are_checked():
    lm = load_model()
    table = token_table(lm.tokenizer)
    after_dash = _texts(lm, allowed_for(table, SOURCE, "@@ 7\n- "))
    assert "\n" not in after_dash  # an empty fragment would fail to parse
    at_start = _texts(lm, allowed_for(table, SOURCE, "@@ 7\n"))
    assert "+" in at_start or any(t.startswith("+") for t in at_start)  # '+' lines stay free
    assert "-" in at_start  # a '-' line may open
    opening = [t for t in at_start if t.startswith("-") and t != "-"]
    assert all(t.startswith("- ") and t[2:].split("\n")[0] in SOURCE for t in opening)
    after_bare = _texts(lm, allowed_for(table, SOURCE, "@@ 7\n-"))
    assert after_bare and all(t.startswith(" ") and t[1:].split("\n")[0] in SOURCE for t in after_bare)
    assert " (" in after_bare and " sled" not in after_bare


def test_generated_anchors_are_program_text_and_switch_works():
    lm = load_model()
    on = generate(lm, [PROMPT], GenerationConfig(max_new_tokens=40), sources=[SOURCE])[0][0]
    lines = SOURCE.splitlines()
    for hunk in parse_edit(on.text).hunks:
        for k, old in enumerate(hunk.old):
            near = lines[max(0, hunk.line - 4):hunk.line + 3 + k] if 1 <= hunk.line <= len(lines) else lines
            assert any(old in ln for ln in near), (old, on.text)
    off = generate(lm, [PROMPT], GenerationConfig(max_new_tokens=40, copy_anchors=False, copy_names=False),
                   sources=[SOURCE])[0][0]
    unconstrained = generate(lm, [PROMPT], GenerationConfig(max_new_tokens=40))[0][0]
    assert off.text == unconstrained.text  # the switches (and no sources) decode exactly as before


def test_names_introduced_are_those_no_prompt_held():
    triples = [("rust", "let stock = 1;", "@@ 1\n- stock\n+ stock.clone()\n### end"),
               ("rust", "x", "@@ 1\n+ use std::collections::HashMap;\n### end"),
               ("python", "import re", "@@ 1\n- re.match\n+ re.search\n### end")]
    assert introduced_names(triples) == {"python": ["search"],
                                         "rust": ["HashMap", "clone", "collections", "std", "use"]}


def test_plus_line_names_come_from_the_prompt_or_what_training_introduced():
    lm = load_model()
    assert lm.introduced is not None and "clone" in lm.introduced["rust"]  # the bundled names.json
    rule = NameCopy(lm.tokenizer, [PROMPT], lm.introduced, 0)
    decode = lm.tokenizer.decode
    ok = {decode([i]) for i in range(len(lm.tokenizer))} - {decode([i]) for i in rule.banned(0, "")}
    assert "stock" in ok or "st" in ok  # the program's names can be written
    after_sto = {decode([i]) for i in range(len(lm.tokenizer))} - {decode([i]) for i in rule.banned(0, "sto")}
    words = {re.match(r"\w*", t).group(0) for t in after_sto}
    assert words and all("stock"[3:].startswith(w) or not w for w in words)  # 'sto' can only become 'stock'
    pel = [i for i in range(len(lm.tokenizer)) if decode([i]).lstrip().startswith("pel")]
    assert pel and set(pel) <= set(rule.banned(0, ""))  # no name here starts so ('pelay' for 'port')
    banned_words = {decode([i]).strip() for i in rule.banned(0, "")}
    assert "12" not in banned_words and "(" not in banned_words  # numbers and symbols are free
    # names are free inside strings, chars or lifetimes, and comments, and outside '+' lines
    assert plus_line_word('@@ 3\n+ println!("a ') is None and plus_line_word("@@ 3\n+ x // a") is None
    assert plus_line_word("@@ 3\n- sto") is None and plus_line_word("@@ 3\n+ (&sto") == "sto"
    # every name the model writes in a '+' line is allowed
    out = generate(lm, [PROMPT], GenerationConfig(max_new_tokens=40), sources=[SOURCE])[0][0].text
    allowed = set(re.findall(r"[A-Za-z_]\w*", PROMPT)) | lm.introduced["rust"]
    for line in out.splitlines():
        if line.startswith("+"):
            assert set(re.findall(r"[A-Za-z_]\w*", line[1:].split('"')[0])) <= allowed, out
