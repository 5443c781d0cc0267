"""`sleepy fix` on real projects built by real cargo and a real pytest, in the sandbox."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import needs_rustc

from sleepy.loop.fix import apply, fix_project, state_dir, undo
from sleepy.tasks.project import ProjectError, detect_project

CARGO_TOML = '[package]\nname = "shelf"\nversion = "0.1.0"\nedition = "2021"\n'
LIB = ("mod shapes;\npub use shapes::Point;\n"
       "pub fn total(v: Vec<i32>) -> i32 { v.iter().sum() }\n\n"
       "#[cfg(test)]\nmod tests {\n    #[test]\n    fn sums() { assert_eq!(super::total(vec![1, 2]), 3); }\n}\n")
SHAPES = "pub struct Point { pub x: i32 }\npub fn show(p: &Point) -> String { format!(\"{:?}\", p) }\n"
MAIN = "fn main() {\n    let v = vec![1, 2];\n    let t = shelf::total(v);\n    println!(\"{} {}\", t, v.len());\n}\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def crate(tmp_path: Path) -> Path:
    return write(tmp_path / "shelf", {"Cargo.toml": CARGO_TOML, "src/lib.rs": LIB, "src/shapes.rs": SHAPES,
                                      "src/main.rs": MAIN})


def sleepy(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sleepy.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=600)


@needs_rustc
def test_a_crate_is_repaired_across_files_one_diagnostic_at_a_time_and_nothing_is_written(tmp_path):
    root = crate(tmp_path)
    result = fix_project(root)
    assert result.green and not result.already_green
    assert [a.file for a in result.attempts if a.passed or a.progress] == ["src/shapes.rs", "src/main.rs"]
    assert "#[derive(Debug)]" in result.changed["src/shapes.rs"]
    assert "+++ b/src/main.rs" in result.diff() and "+++ b/src/shapes.rs" in result.diff()
    assert (root / "src/shapes.rs").read_text() == SHAPES and not (root / "target").exists()  # dry run
    events = (state_dir(root) / "events.jsonl").read_text().splitlines()
    assert events and all('"sleepy.edit.origin": "tool:rustc"' in e for e in events)


@needs_rustc
def test_apply_writes_atomically_refuses_a_dirty_tree_and_undo_restores(tmp_path):
    root = crate(tmp_path)
    for cmd in (["init", "-q"], ["add", "-A"], ["-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "x"]):
        subprocess.run(["git", "-C", str(root), *cmd], check=True)
    (root / "notes.txt").write_text("uncommitted\n")
    dirty = sleepy("fix", str(root), "--apply")
    assert dirty.returncode == 2 and "uncommitted changes" in dirty.stderr
    assert (root / "src/shapes.rs").read_text() == SHAPES
    done = sleepy("fix", str(root), "--apply", "--allow-dirty")
    assert done.returncode == 0, done.stderr
    assert "#[derive(Debug)]" in (root / "src/shapes.rs").read_text()
    assert sleepy("fix", str(root)).stdout.count("already green") == 1
    restored = sleepy("fix", str(root), "--undo")
    assert restored.returncode == 0 and (root / "src/shapes.rs").read_text() == SHAPES
    assert (root / "src/main.rs").read_text() == MAIN
    assert sleepy("fix", str(root), "--undo").returncode == 2  # nothing left to undo


@needs_rustc
def test_what_tools_cannot_repair_is_left_with_exit_1_and_undo_never_overwrites_new_edits(tmp_path):
    root = write(tmp_path / "stuck", {"Cargo.toml": CARGO_TOML.replace("shelf", "stuck"),
                                      "src/main.rs": "fn main() {\n    let x: i32 = \"seven\";\n}\n"})
    left = sleepy("fix", str(root))
    assert left.returncode == 1 and "error(s) left at src/main.rs:2" in left.stderr
    shelf = crate(tmp_path)
    result = fix_project(shelf)
    apply(result, allow_dirty=True)
    (shelf / "src/main.rs").write_text(MAIN + "// my own edit\n")
    with pytest.raises(ProjectError, match="changed since"):
        undo(shelf)
    assert (shelf / "src/main.rs").read_text().endswith("// my own edit\n")


def test_a_python_package_is_repaired_against_its_own_tests(tmp_path):
    root = write(tmp_path / "pkg", {
        "pyproject.toml": "[project]\nname = 'wordy'\nversion = '0.1'\n",
        "wordy/__init__.py": "",
        "wordy/counts.py": "def counts(words):\n    seen = defaultdict(int)\n    for w in words:\n"
                           "        seen[w] += 1\n    return dict(seen)\n",
        "tests/test_counts.py": "from wordy.counts import counts\n\n\ndef test_counts():\n"
                                "    assert counts(['a', 'b', 'a']) == {'a': 2, 'b': 1}\n"})
    project = detect_project(root)
    assert project.kind == "python" and project.has_tests
    result = fix_project(root)
    assert result.green and list(result.changed) == ["wordy/counts.py"]
    assert result.changed["wordy/counts.py"].startswith("from collections import defaultdict\n")


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    assert sleepy("fix", str(tmp_path / "missing")).returncode == 2
    (tmp_path / "empty").mkdir()
    empty = sleepy("fix", str(tmp_path / "empty"))
    assert empty.returncode == 2 and "not a Cargo or Python project" in empty.stderr
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "x.py").write_bytes(b"print('\xff')\n")
    binary = sleepy("fix", str(tmp_path / "bin"))
    assert binary.returncode == 2 and "not UTF-8" in binary.stderr and "Traceback" not in binary.stderr


@needs_rustc
def test_a_crate_that_needs_the_network_or_a_build_that_hangs_is_one_line_and_exit_2(tmp_path):
    net = write(tmp_path / "net", {"Cargo.toml": CARGO_TOML.replace("shelf", "net") + '[dependencies]\nrand = "0.8"\n',
                                   "src/main.rs": "fn main() {}\n"})
    done = sleepy("fix", str(net), "--no-model")
    assert done.returncode == 2 and "needs the network" in done.stderr and "Traceback" not in done.stderr
    hang = write(tmp_path / "hang", {"Cargo.toml": CARGO_TOML.replace("shelf", "hang"),
                                     "build.rs": "fn main() { loop {} }\n", "src/main.rs": "fn main() {}\n"})
    done = sleepy("fix", str(hang), "--no-model", "--timeout", "5")
    assert done.returncode == 2 and "did not finish within its limits (timeout)" in done.stderr
    assert sorted(p.name for p in hang.iterdir()) == ["Cargo.toml", "build.rs", "src"]  # nothing written
    assert sleepy("fix", str(hang), "--timeout", "0").returncode == 2


@needs_rustc
def test_a_tampering_edit_is_refused_before_the_build_and_a_green_build_never_loads_the_model(tmp_path):
    from sleepy.loop.fix import checked
    from sleepy.tasks.project import ProjectBuild

    root = crate(tmp_path)
    build = ProjectBuild.open(detect_project(root))
    try:
        lib = build.files["src/lib.rs"]
        no_test = lib.replace("    #[test]\n    fn sums() { assert_eq!(super::total(vec![1, 2]), 3); }\n", "")
        refused = checked(build, build.files, {"src/lib.rs": no_test})
        assert not refused.passed and refused.signature == "rust:tamper:test-removed"
        assert build.files["src/lib.rs"] == lib  # refused before anything was written or built
    finally:
        build.close()
    green = fix_project(root)  # repair the crate first, then run on the green copy
    for rel, text in green.changed.items():
        (root / rel).write_text(text)
    asked = []
    result = fix_project(root, model=lambda: asked.append(1))
    assert result.already_green and asked == []


SEMVER = sorted(Path("/usr/share/cargo/registry").glob("semver-1.*"))


@needs_rustc
@pytest.mark.skipif(not SEMVER, reason="Debian's librust-semver-dev is not installed (install.sh installs it as root)")
def test_a_real_crate_with_a_dependency_builds_offline_and_a_dropped_import_is_repaired(tmp_path):
    root = tmp_path / "semver"
    import shutil

    shutil.copytree(SEMVER[-1], root)
    (root / ".cargo").mkdir(exist_ok=True)
    (root / ".cargo" / "config.toml").write_text('[source.crates-io]\nreplace-with = "debian"\n[source.debian]\n'
                                                 'directory = "/usr/share/cargo/registry"\n')
    assert 'serde' in (root / "Cargo.toml").read_text()  # resolved from Debian's registry, offline
    eval_rs = root / "src" / "eval.rs"
    original = eval_rs.read_text()
    eval_rs.write_text(original.replace("use crate::{Comparator, Op, Version, VersionReq};\n", "", 1))
    result = fix_project(root)
    assert result.green and result.changed["src/eval.rs"].count("use crate::") >= 1
    assert [a.origin for a in result.attempts if a.passed] == ["tool:rustc"]


def green_crate(tmp_path: Path) -> Path:
    """The test crate repaired, with one more module: four source files to break and split."""
    root = crate(tmp_path)
    fixed = fix_project(root)
    for rel, text in fixed.changed.items():
        (root / rel).write_text(text)
    (root / "src/extra.rs").write_text("use std::collections::HashMap;\n\npub fn tally(words: &[&str]) -> "
                                       "HashMap<String, usize> {\n    let mut out = HashMap::new();\n"
                                       "    for w in words { *out.entry(w.to_string()).or_insert(0) += 1; }\n"
                                       "    out\n}\n")
    (root / "src/lib.rs").write_text("mod extra;\npub use extra::tally;\n" + LIB)
    return root


@needs_rustc
def test_a_project_s_own_code_broken_on_purpose_becomes_proven_day_tasks_and_held_out_files(tmp_path, micro):
    from sleepy.adapters.lora import RoutedModel
    from sleepy.loop.day import run_day
    from sleepy.loop.episodes import EpisodeConfig
    from sleepy.memory.recall import ExperienceMemory
    from sleepy.memory.sqlite import SQLiteStore
    from sleepy.model.loader import load_model
    from sleepy.tasks.project.mutate import HELD_OUT_ORIGIN, project_tasks
    from sleepy.tasks.task import Task
    from sleepy.tasks.verify import verify

    root = green_crate(tmp_path)
    tasks = project_tasks(detect_project(root), seed=3)
    assert tasks and {t.origin for t in tasks} == {"project", HELD_OUT_ORIGIN}
    held = {t.file for t in tasks if t.origin == HELD_OUT_ORIGIN}
    assert held.isdisjoint({t.file for t in tasks if t.origin == "project"})  # split by file
    for t in tasks[:3]:
        assert not verify(t).passed and verify(t, t.fix).passed and t.signature.startswith("rust:")
    day = [t for t in tasks if t.origin == "project"][:4]
    store = SQLiteStore(tmp_path / "day.db")
    summary = run_day(RoutedModel(load_model(str(micro[0] / "model")), None), store, ExperienceMemory(store), day,
                      EpisodeConfig(attempts=1, max_new_tokens=8), {"test": "project"})
    assert summary.tasks == len(day) and summary.passed >= 1
    (row,) = store.task_rows([day[0].id])
    again = Task.from_row(row)  # the store keeps where the task lives: a night can verify it again
    assert again.project == str(root.resolve()) and again.file == day[0].file
    assert verify(again, day[0].fix).passed


@needs_rustc
def test_a_night_learns_from_the_project_s_own_files_and_gates_on_its_held_out_files(tmp_path, micro):
    import json

    from sleepy.adapters.lora import LoraParams, RoutedModel
    from sleepy.adapters.registry import Registry
    from sleepy.loop.day import keep_for_gate, run_day
    from sleepy.loop.episodes import EpisodeConfig
    from sleepy.loop.evaluate import EvalReport
    from sleepy.loop.night import NightConfig, run_night
    from sleepy.memory.recall import ExperienceMemory
    from sleepy.memory.sqlite import SQLiteStore
    from sleepy.model.loader import load_model
    from sleepy.tasks.project.mutate import HELD_OUT_ORIGIN, project_tasks

    root = green_crate(tmp_path)
    tasks = project_tasks(detect_project(root), seed=3)
    day = [t for t in tasks if t.origin == "project"]
    held = [t for t in tasks if t.origin == HELD_OUT_ORIGIN]
    store = SQLiteStore(tmp_path / "day.db")
    keep_for_gate(store, held)
    model = str(micro[0] / "model")
    # the model alone, so the day leaves failures for the night to mine
    run_day(RoutedModel(load_model(model), None), store, ExperienceMemory(store), day,
            EpisodeConfig(attempts=1, max_new_tokens=8, sources=("model",)), {"test": "project night"})
    cfg = NightConfig(min_failures=1, max_skills=1, teacher_budget=4, gate_seeds=1, holdout_per_family=0,
                      max_new_tokens=8, skills="lora", sources=("model",), lora=LoraParams(steps=2, rank=4, alpha=8))
    rep = run_night(store, ExperienceMemory(store), Registry(tmp_path / "reg"), "rust", cfg, model,
                    tmp_path / "evals")
    assert rep.candidate, rep.note
    release = Registry(tmp_path / "reg").get(rep.candidate)
    (skill,) = release.skills
    data = [json.loads(line) for line in (release.folder / skill.path / "data.jsonl").open()]
    day_ids, held_ids = {t.id for t in day}, {t.id for t in held}
    taught = [d for d in data if d["source"] == "reference"]
    assert taught and all(d["task_id"] in day_ids for d in taught)  # the project's own file taught the fix
    assert not held_ids & {d["task_id"] for d in data}  # never a held-out breakage
    gated = [EvalReport.load(p) for p in sorted((tmp_path / "evals").glob("*.json"))]
    assert len(gated) == 2  # production and candidate, one seed
    for report in gated:
        assert {r.task_id for r in report.rows if r.set == "project-holdout"} == held_ids


@needs_rustc
def test_where_the_tools_make_no_step_forward_the_model_is_asked_and_its_edit_verified_by_the_build(tmp_path, micro):
    from sleepy.adapters.lora import RoutedModel
    from sleepy.model.loader import load_model

    root = write(tmp_path / "stuck", {"Cargo.toml": CARGO_TOML.replace("shelf", "stuck"),
                                      "src/main.rs": "fn main() {\n    let x: i32 = \"seven\";\n}\n"})
    result = fix_project(root, model=RoutedModel(load_model(str(micro[0] / "model")), None), model_calls=2)
    asked = [a for a in result.attempts if a.origin == "model"]
    assert len(asked) == 2 and all(a.file == "src/main.rs" and a.edit for a in asked)
    assert all(a.passed == (a.signature_after is None) for a in asked)
    assert result.green == any(a.passed for a in asked)
    assert (root / "src/main.rs").read_text().count("seven") == 1  # the user's file is never written


INFLECTION = sorted((Path.home() / ".cache" / "sleepy" / "sdists").glob("inflection-*.tar.gz"))


@pytest.mark.skipif(not INFLECTION, reason="the inflection sdist is not downloaded (install.sh fetches it from PyPI)")
def test_a_real_python_package_is_repaired_against_its_own_test_suite(tmp_path):
    import tarfile

    with tarfile.open(INFLECTION[-1]) as tar:
        tar.extractall(tmp_path, filter="data")
    (root,) = tmp_path.glob("inflection-*")
    module = root / "inflection" / "__init__.py"
    original = module.read_text()
    module.write_text(original.replace("import unicodedata\n", "", 1))  # a dropped import
    result = fix_project(root)
    assert result.green and result.changed["inflection/__init__.py"].count("import unicodedata") == 1
    assert module.read_text() != original  # a dry run: the broken file is left as it is


def test_an_atomic_rewrite_keeps_the_file_s_permissions_and_line_endings(tmp_path):
    import os
    import stat

    from sleepy.files import atomic_write_text

    script = tmp_path / "run.py"
    script.write_bytes(b"print('hi')\r\n")
    os.chmod(script, 0o755)
    atomic_write_text(script, "print('caf\u00e9')\r\n")
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert script.read_bytes() == "print('caf\u00e9')\r\n".encode()


def test_a_src_layout_package_with_plugin_options_is_repaired_across_its_modules_from_its_own_names(tmp_path):
    """Under pytest the interpreter's "Did you mean" never shows, and a package ``__init__`` that lost an
    import fails in a test file: the hints read the project's own modules instead."""
    root = write(tmp_path / "wordy", {
        "pyproject.toml": "[project]\nname = 'wordy'\nversion = '0.1'\n"
                          "[tool.pytest.ini_options]\naddopts = '--cov=wordy --cov-report=term'\n",
        "src/wordy/__init__.py": '"""Word tools."""\nfrom .core import counts\n',  # lost: from .tally import ...
        "src/wordy/core.py": "def counts(words):\n    seen = {}\n    for word in words:\n"
                             "        seen[word] = seen.get(wrd, 0) + 1\n    return seen\n",  # a typo: wrd
        "src/wordy/tally.py": "LABELS = {'total': 'Total', 'unique': 'Unique'}\n\n\n"
                              "def total(seen):\n    return sum(seen.values())\n\n\n"
                              "def label(kind):\n    return LABELS['totl' if kind == 'total' else kind]\n",  # 'totl'
        "tests/test_wordy.py": "import wordy\n\n\ndef test_counts():\n"
                               "    assert wordy.counts(['a', 'b', 'a']) == {'a': 2, 'b': 1}\n\n\n"
                               "def test_total():\n    assert wordy.total({'a': 2}) == 2\n"
                               "    assert wordy.label('total') == 'Total'\n"})
    result = fix_project(root)
    assert result.green, result
    assert set(result.changed) == {"src/wordy/__init__.py", "src/wordy/core.py", "src/wordy/tally.py"}
    assert "from .tally import total, label" in result.changed["src/wordy/__init__.py"]  # the names tests read
    assert "seen.get(word, 0)" in result.changed["src/wordy/core.py"]
    assert "LABELS['total'" in result.changed["src/wordy/tally.py"]


@needs_rustc
def test_cargo_s_target_is_kept_outside_the_project_so_the_next_run_checks_warm(tmp_path):
    import json

    from sleepy.tasks.project import ProjectBuild

    green_main = MAIN.replace("shelf::total(v)", "shelf::total(v.clone())")
    root = write(tmp_path / "shelf", {"Cargo.toml": CARGO_TOML, "src/lib.rs": LIB, "src/main.rs": green_main,
                                      "src/shapes.rs": "#[derive(Debug)]\n" + SHAPES})
    project = detect_project(root)
    keep = tmp_path / "kept"

    def fresh_units() -> list[bool]:
        build = ProjectBuild.open(project, keep=keep)
        try:
            verdict = build.check()
        finally:
            build.close()
        assert verdict.passed
        return [r["fresh"] for r in map(json.loads, verdict.output.splitlines()) if r.get("reason") ==
                "compiler-artifact"]

    assert fresh_units() == [False, False]  # lib and bin, cold
    assert (keep / "target").is_dir() and not list(keep.glob("target.*"))
    assert fresh_units() == [True, True]  # the kept target/ still describes the sources
    (root / "src" / "main.rs").write_text(green_main.replace("v.len()", "v.len() + 1"))
    project = detect_project(root)
    assert fresh_units() == [True, False]  # an edited file rebuilds what depends on it, and only that
    build = ProjectBuild.open(project, keep=keep)  # the last build is of a candidate, not of the files
    try:
        assert build.check({"src/main.rs": green_main.replace("v.len()", "v.len() + 2")}).passed
    finally:
        build.close()
    assert fresh_units() == [True, False]  # main.rs is older than that build, yet not what it built
    assert not (root / "target").exists()  # nothing written into the project
    fix_project(root)
    assert (state_dir(root) / "target").is_dir()  # sleepy fix keeps its own, per project


def test_a_module_that_lost_an_import_fails_at_test_collection_and_is_repaired_where_the_name_went_missing(tmp_path):
    """pytest reports an error while collecting a test module in its short form (``E   ImportError``),
    not as a traceback: it is read as one, and the fix lands in the module the importer names."""
    root = write(tmp_path / "wordy", {
        "pyproject.toml": "[project]\nname = 'wordy'\nversion = '0.1'\n",
        "wordy/__init__.py": "from .core import WIDTH, counts\n",
        "wordy/table.py": "WIDTH = {'a': 1}\n",
        "wordy/core.py": "def counts(words):\n    return {w: WIDTH.get(w, 0) for w in words}\n",  # lost its import
        "tests/test_wordy.py": "import wordy\n\n\ndef test_counts():\n    assert wordy.counts(['a']) == {'a': 1}\n"})
    result = fix_project(root)
    assert result.green, result
    assert list(result.changed) == ["wordy/core.py"]
    assert result.changed["wordy/core.py"].startswith("from .table import WIDTH\n")
    first = result.attempts[0]
    assert first.signature_before == "py:ImportError:cannot-import-name-from"  # no sandbox path in the key
