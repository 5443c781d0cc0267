"""Tool-first repair with real rustc and a real Python: hints as verified candidates, one diagnostic at a time."""

import json

from conftest import needs_rustc
from typer.testing import CliRunner

from sleepy.loop.episodes import EpisodeConfig, run_episodes
from sleepy.tasks.hints import add_import, tool_candidates
from sleepy.tasks.task import Task, load_task, save_task
from sleepy.tasks.verify import progressed, verify, verify_many

TOOLS_ONLY = EpisodeConfig(sources=("tool",), max_steps=6, batch_size=4)


def rust(source: str, **kw) -> Task:
    return Task("t", "rust", "borrow", source, origin="user", **kw)


def py(source: str) -> Task:
    return Task("t", "python", "name-import", source, origin="user")


def solve_with_tools(task: Task):
    """Tools alone (no model is ever called: sources without 'model')."""
    (ep,) = run_episodes(None, [task], TOOLS_ONLY, None)
    return ep


@needs_rustc
def test_rustc_suggestions_carry_their_applicability_and_placeholders_are_skipped_with_a_reason():
    src = "fn area(w: u32, h: u32) -> u32 { w * h }\nfn main() { let a = area(3); println!(\"{a}\"); }\n"
    verdict = verify(rust(src))
    assert verdict.signature.startswith("rust:E0061")
    assert {f.applicability for f in verdict.primary.fixits} == {"HasPlaceholders"}
    hints = tool_candidates("rust", src, verdict.diagnostics)
    assert hints.candidates == []
    assert hints.skipped and "placeholders" in hints.skipped[0]


@needs_rustc
def test_a_one_line_program_is_repaired_by_rustc_s_own_suggestion_and_the_event_says_so():
    src = 'fn main() { let s = String::from("hi"); let t = s; println!("{} {}", s, t); }\n'
    ep = solve_with_tools(rust(src))
    assert ep.passed and ep.solved_by == "tool" and ep.winning.origin == "tool:rustc"
    assert ep.winning.candidate.count("\n") == 1  # still one line: the suggestion is placed by byte offsets


@needs_rustc
def test_a_fix_that_compiles_but_panics_is_not_a_fix_unless_the_task_is_check_only():
    src = 'fn main() {\n    let n: i32 = "abc".parse().unwrap();\n    println!("{n}");\n}\n'
    ran = verify(rust(src))
    assert not ran.passed and ran.stage == "run" and ran.signature.startswith("rust:panic:")
    assert ran.primary.spans[0].line_start == 2
    assert verify(rust(src, check_only=True)).passed
    ok = verify(rust('fn main() {\n    let n: i32 = "42".parse().unwrap();\n    assert_eq!(n, 42);\n}\n'))
    assert ok.passed and ok.stage == "run"


@needs_rustc
def test_several_errors_are_repaired_one_step_at_a_time_and_each_step_forward_is_logged():
    # rustc reports the missing import first; the moved value only shows once names resolve.
    src = ("fn total(v: &Vec<i32>) -> i32 { v.iter().sum() }\n"
           "fn main() {\n"
           "    let scores = vec![1, 2, 3];\n"
           "    let mut seen: HashMap<i32, i32> = HashMap::new();\n"
           "    seen.insert(1, total(&scores));\n"
           "    let moved = scores;\n"
           "    println!(\"{:?} {:?}\", scores, moved);\n"
           "}\n")
    before = verify(rust(src))
    assert {d.code for d in before.diagnostics} <= {"E0425", "E0433", "E0412"}
    ep = solve_with_tools(rust(src))
    assert ep.passed and ep.attempts == 2 and ep.path == ["tool:rustc", "tool:rustc"]
    step_one = next(s for s in ep.steps[0].samples if s.progress)
    assert "use std::collections::HashMap;" in step_one.candidate
    assert step_one.result.signature == "rust:E0382:borrow-of-moved-value"
    assert progressed(before, step_one.result, "rust") == 2
    assert ep.steps[1].work.source == step_one.candidate  # the next step starts from the step forward


@needs_rustc
def test_progress_ranks_a_later_compiler_phase_as_a_step_forward():
    unresolved = verify(rust("fn main() { let x: Strin = 5; }\n"))
    mismatch = verify(rust("fn main() { let x: String = 5; }\n"))
    assert progressed(unresolved, mismatch, "rust") == 2
    assert progressed(mismatch, unresolved, "rust") == 0
    assert progressed(mismatch, mismatch, "rust") == 0


def test_python_did_you_mean_renames_names_but_never_inside_strings():
    src = 'valu = 3\nprint("value", value)\nassert valu == 3\n'
    verdict = verify(py(src))
    assert "Did you mean" in verdict.primary.message
    programs = [c.program for c in tool_candidates("python", src, verdict.diagnostics).candidates]
    assert 'valu = 3\nprint("value", valu)\nassert valu == 3\n' in programs
    assert any(verify(py(p)).passed for p in programs)


def test_a_missing_standard_name_is_imported_from_the_index_after_the_existing_imports():
    src = '"""Counts words."""\nimport sys\n\ncounts = defaultdict(int)\ncounts["a"] += 1\nassert counts["a"] == 1\n'
    ep = solve_with_tools(py(src))
    assert ep.passed and ep.winning.origin == "tool:python"
    assert ep.winning.candidate.splitlines()[:3] == ['"""Counts words."""', "import sys", "from collections import "
                                                     "defaultdict"]


def test_a_name_of_a_standard_submodule_is_imported_and_a_module_the_file_already_uses_comes_first():
    """``quote_plus`` lives in ``urllib.parse`` (a submodule: indexed one level down); the file's own
    ``from urllib.parse import ...`` line is the first place to look, before a rename of the name it imports."""
    from sleepy.tasks.pyindex import import_lines_for

    assert import_lines_for("ThreadPoolExecutor") == ["from concurrent.futures import ThreadPoolExecutor"]
    assert import_lines_for("getsize")[0] == "from os.path import getsize"  # not posixpath
    assert import_lines_for("Iterable", source="from collections.abc import Mapping\n")[0] == \
        "from collections.abc import Iterable"
    src = ("from urllib.parse import unquote_plus\n\n\ndef encode(text):\n    return quote_plus(text)\n\n\n"
           "assert encode('a b&c') == 'a+b%26c'\nassert unquote_plus(encode('a b')) == 'a b'\n")
    ep = solve_with_tools(py(src))
    assert ep.passed and "from urllib.parse import quote_plus" in ep.winning.candidate
    assert "return quote_plus(text)" in ep.winning.candidate


def test_a_dropped_import_line_comes_back_whole_from_the_module_that_provides_the_most_missing_names():
    from sleepy.tasks.pyindex import undefined_names

    src = ("import sys\n\n\ndef score(pairs):\n    first = itemgetter(0)\n"
           "    return sum(mul(first(p), 2) - sub(p[1], 1) for p in pairs) + len(sys.argv) * 0\n\n\n"
           "class Window:\n    def __init__(self):\n        self.items = deque(maxlen=2)\n\n\n"
           "assert score([(3, 1), (1, 1)]) == 8 and Window().items.maxlen == 2\n")
    assert undefined_names(src) == ["itemgetter", "mul", "sub", "deque"]
    verdict = verify(py(src))
    (first, *_) = tool_candidates("python", src, verdict.diagnostics).candidates
    assert first.hint == "from operator import itemgetter, mul, sub"  # not re.sub; one line, not three steps
    ep = solve_with_tools(py(src))
    assert ep.passed and ep.solved_by == "tool" and len(ep.path) == 2  # operator's names, then deque
    assert undefined_names("from os import *\nprint(path)\n") == []  # a star import could bind anything


def test_python_hints_for_self_attributes_unbound_locals_and_str_concatenation():
    method = ("class Account:\n    def __init__(self):\n        self.balance = 0\n"
              "    def deposit(self, n):\n        self.balance = balance + n\n"
              "a = Account()\na.deposit(5)\nassert a.balance == 5\n")
    counter = "hits = 0\ndef hit():\n    hits += 1\nhit()\nassert hits == 1\n"
    label = 'n = 3\nlabel = "items: " + n\nassert label == "items: 3"\n'
    for src in (method, counter, label):
        ep = solve_with_tools(py(src))
        assert ep.passed and ep.solved_by == "tool", src


def test_crlf_tabs_and_non_ascii_survive_loading_and_imports(tmp_path):
    src = "name = 'café ☕'\r\nx = sqrt(16)\r\nassert x == 4\r\n"
    save_task(py(src), tmp_path / "t")
    loaded = load_task(tmp_path / "t")
    assert loaded.source == src  # CRLF kept as written
    ep = solve_with_tools(loaded)
    assert ep.passed and "\r\nfrom math import sqrt\r\n" in "\r\n" + ep.winning.candidate
    assert add_import("\tx = 1\n", "import os").startswith("import os\n")


@needs_rustc
def test_eval_takes_any_folder_and_splits_pass_rates_by_the_layer_that_solved(tmp_path, micro):
    from sleepy.cli import app

    root, _ = micro
    tasks = tmp_path / "tasks"
    save_task(Task("moved", "rust", "borrow", 'fn main() { let s = String::from("a"); let t = s; '
                   'println!("{s}{t}"); }\n'), tasks / "moved")
    save_task(Task("logic", "rust", "type-mismatch", "fn main() { let x: i32 = \"no\"; }\n"), tasks / "logic")
    out = tmp_path / "e.json"
    result = CliRunner().invoke(app, ["eval", "--release", "base", "--pack", "rust", "--tasks", str(tasks),
                                      "--model", str(root / "model"), "-w", str(tmp_path / "ws"),
                                      "--candidates", "tool", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    rows = {r["task_id"]: r for r in data["tasks"]}
    assert rows["moved"]["passed"] and rows["moved"]["solved_by"] == "tool" and rows["moved"]["set"] == "tasks"
    assert data["by_origin"][0]["tool"] >= 1 and data["sources"] == ["tool"]
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = CliRunner().invoke(app, ["eval", "--release", "base", "--tasks", str(empty), "-w", str(tmp_path / "ws")])
    assert bad.exit_code == 2 and "no task folders" in bad.output


@needs_rustc
def test_the_full_system_never_fails_what_tools_alone_solve(micro):
    from sleepy.adapters.lora import RoutedModel
    from sleepy.model.loader import load_model
    from sleepy.tasks.packs import get_pack

    root, _ = micro
    tasks = get_pack("rust").frozen()[:16]
    tools = {e.task.id for e in run_episodes(None, tasks, TOOLS_ONLY, None) if e.passed}
    full = run_episodes(RoutedModel(load_model(str(root / "model")), None), tasks,
                        EpisodeConfig(attempts=1, max_new_tokens=16, batch_size=8), None)
    assert tools and tools <= {e.task.id for e in full if e.passed}
    assert all(r.passed for r in verify_many([(e.task, e.winning.candidate) for e in full if e.passed]))


@needs_rustc
def test_a_one_line_program_is_shown_formatted_and_the_model_s_edit_lands_on_the_one_line():
    from sleepy.context.view import view_of
    from sleepy.tasks.edit import apply_edit, parse_edit

    src = 'fn main() { let s = String::from("hi"); let t = s; println!("{} {}", s, t); }\n'
    view = view_of("rust", src)
    assert view.reformatted and view.shown.count("\n") >= 4
    diag = view.diagnostic(verify(rust(src)).primary)
    assert {s.line_start for s in diag.spans} >= {3, 4}  # moved at `let t = s;`, used in println!
    edited = apply_edit(view.shown, parse_edit("@@ 3\n- = s;\n+ = s.clone();\n"))
    fixed = view.to_original(edited)
    assert fixed == 'fn main() { let s = String::from("hi"); let t = s.clone(); println!("{} {}", s, t); }\n'
    assert verify(rust(fixed)).passed
    inserted = view.to_original(apply_edit(view.shown, parse_edit("@@ 2\n- let s\n+ let mut s\n")))
    assert inserted.startswith("fn main() { let mut s = ") and inserted.count("\n") == 1
    assert not view_of("rust", "fn main() {\n    let x = 1;\n}\n").reformatted  # code people lay out stays as is
    from sleepy.tasks.packs import get_pack

    assert not any(view_of("rust", k.source).reformatted for k in get_pack("rust").frozen())


def test_one_name_for_one_meaning_tasks_is_a_folder_and_a_count_is_n(tmp_path):
    from sleepy.cli import app

    result = CliRunner().invoke(app, ["day", "--tasks", "50", "-w", str(tmp_path / "ws")])
    assert result.exit_code == 2 and "-n 50" in result.output
    save_task(py("x = sqrt(4)\nassert x == 2\n"), tmp_path / "mine" / "t")
    shown = CliRunner().invoke(app, ["koans", "check", "--pack", "python", "--tasks", str(tmp_path / "mine")])
    assert shown.exit_code == 0 and "py:NameError:name-is-not-defined" in shown.output


@needs_rustc
def test_changes_rustc_describes_only_in_its_notes_are_placed_on_the_spans_it_gives():
    moved = ("struct Item { n: u32 }\n"
             "fn total(items: Vec<Item>) -> u32 { items.iter().map(|i| i.n).sum() }\n"
             "fn main() {\n    let stock = vec![Item { n: 2 }];\n    let t = total(stock);\n"
             "    assert_eq!(t + stock.len() as u32, 3);\n}\n")
    hints = tool_candidates("rust", moved, verify(rust(moved)).diagnostics).candidates
    by_hint = {c.hint.split(": ", 1)[1]: c.program for c in hints}
    borrowed = by_hint["borrow the parameter and the argument"]
    assert "fn total(items: &Vec<Item>)" in borrowed and "total(&stock)" in borrowed
    assert verify(rust(borrowed)).passed
    cloned = by_hint["derive Clone and clone the moved value"]
    assert cloned.startswith("#[derive(Clone)]\nstruct Item") and "total(stock.clone())" in cloned
    assert verify(rust(cloned)).passed
    # a missing trait on a local type is derived (extending a derive that is there), on one line too
    default = ('#[derive(Debug)]\nenum Theme { Dark }\n#[derive(Debug, Default)]\nstruct S { theme: Theme }\n'
               'fn main() { let s = S::default(); println!("{:?}", s); }\n')
    ep = solve_with_tools(rust(default))
    assert ep.passed and "#[derive(Debug, Default)]\nenum Theme" in ep.winning.candidate
    one_line = ("#[derive(Clone)] struct Cfg { port: u16 } struct Srv { cfg: Cfg } "
                "fn main() { let s = Srv { cfg: Cfg { port: 1 } }; let t = s.clone(); assert_eq!(t.cfg.port, 1); }\n")
    ep = solve_with_tools(rust(one_line))
    assert ep.passed and "#[derive(Clone)] struct Srv" in ep.winning.candidate
    assert ep.winning.candidate.count("\n") == 1


@needs_rustc
def test_training_examples_of_a_one_line_program_are_written_in_the_view_the_model_is_shown():
    from sleepy.context.prompt import ContextBuilder
    from sleepy.context.view import view_of
    from sleepy.loop.night import _example
    from sleepy.tasks.edit import apply_edit, parse_edit

    src = 'fn main() { let s = String::from("hi"); let t = s; println!("{} {}", s, t); }\n'
    fixed = src.replace("let t = s;", "let t = s.clone();")
    example = _example(rust(src), fixed, "agent", ContextBuilder())
    assert "4|     println!" in example.prompt  # numbered lines of the formatted view
    view = view_of("rust", src)
    assert view.to_original(apply_edit(view.shown, parse_edit(example.completion))) == fixed


def test_the_gate_counts_what_each_layer_solved():
    from sleepy.loop.cycle import solved_by_layer
    from sleepy.loop.evaluate import EvalReport, EvalRow

    rows = [EvalRow("a", "frozen", "borrow", True, "s", True, None, "", solved_by="tool"),
            EvalRow("b", "frozen", "borrow", True, "s", True, None, "", solved_by="skill"),
            EvalRow("c", "frozen", "borrow", True, "s", False, "s", "")]
    report = EvalReport("r", "rust", "m", 0, 1, 1.0, rows)
    assert solved_by_layer([report]) == {"tool": 1, "skill": 1}
    assert report.by_origin() == [{"set": "frozen", "tasks": 3, "tool": 1, "memory": 0, "model": 0, "skill": 1,
                                   "passed": 2, "pass_rate": 0.6667}]


def test_settings_out_of_range_are_one_line_errors_naming_the_value(tmp_path):
    from sleepy.cli import app

    for args in (["eval", "--attempts", "0"], ["day", "-n", "2", "--attempts", "-1"], ["eval", "--samples", "0"]):
        result = CliRunner().invoke(app, [*args, "-w", str(tmp_path / "ws")])
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output
        assert "at least 1" in result.output or "greater than 0" in result.output
    (tmp_path / "ws").mkdir(exist_ok=True)
    (tmp_path / "ws" / "config.toml").write_text("max_new_tokens = -3\n")
    bad = CliRunner().invoke(app, ["day", "-n", "1", "-w", str(tmp_path / "ws")])
    assert bad.exit_code == 2 and "config.toml: max_new_tokens = -3" in bad.output


def test_python_hints_where_pytest_shows_no_did_you_mean_use_the_file_and_the_project():
    """Under pytest the interpreter's suggestion never shows: attribute typos, key typos (either side),
    a misnamed definition and a dropped import of a project module get candidates from names at hand."""
    from sleepy.tasks.signature import Diagnostic, Span

    def lines(src, code, message, line=None, files=None, file=None):
        diag = Diagnostic(key=f"py:{code}", code=code, message=message,
                          spans=[Span(file or "m.py", line, line, 1, 1)] if line else [])
        return [[x for x in c.program.splitlines() if x not in src.splitlines()]
                for c in tool_candidates("python", src, [diag], 8, files, file).candidates]

    assert ["x = itertools.chain([1], [2])"] in lines("import itertools\nx = itertools.cain([1], [2])\n",
                                                      "AttributeError", "module 'itertools' has no attribute 'cain'", 2)
    assert ["    def __radd__(self, o, add=tuple.__add__):"] in lines(
        "class K(tuple):\n    def __radd__(self, o, add=tuple.__add_):\n        return add(o, self)\n",
        "AttributeError", "type object 'tuple' has no attribute '__add_'", 2)
    project = {"p/_v.py": "K = {'version': 1}\n", "p/__init__.py": "v = get()['vesion']\n"}
    assert ["v = get()['version']"] in lines("v = get()['vesion']\n", "KeyError", "'vesion'", 1, project,
                                             "p/__init__.py")  # the key read misspelt: the project's key
    assert [" 'version': 1,"] in lines("K = {\n 'versin': 1,\n}\n", "KeyError", "'version'", None,
                                       project, "p/_v.py")  # the key defined misspelt
    embedded = 'J = """\n{"versin": "0.1"}"""\n'  # the key inside JSON inside a string
    assert ['{"version": "0.1"}"""'] in lines(embedded, "KeyError", "'version'", None, project, "p/_v.py")
    assert ["def merge(d):"] in lines("def mege(d):\n    return d\n", "NameError", "name 'merge' is not defined", 5)
    jmes = {"jmespath/__init__.py": "", "jmespath/exceptions.py": "class LexerError(Exception): pass\n",
            "jmespath/parser.py": ""}
    assert ["from jmespath import exceptions"] in lines("def f():\n    raise exceptions.LexerError()\n",
                                                         "NameError", "name 'exceptions' is not defined", 2,
                                                         jmes, "jmespath/parser.py")
    cache = {"c/__init__.py": "from .func import *\n", "c/func.py": ""}
    assert ['__all__ = ("fifo_cache", "lru")'] in lines('__all__ = ("fifo_cche", "lru")\ndef fifo_cache(): pass\n'
                                                        'def lru(): pass\n', "AttributeError",
                                                        "module 'c.func' has no attribute 'fifo_cche'", None,
                                                        cache, "c/func.py")
    assert lines("x = 1\n", "AttributeError", "module 'zz' has no attribute 'qqqq'", 1) == []  # nothing near
