"""A damaged registry through the command line: torn history, truncated aliases, garbage manifest, missing
files.json, a file changed with its list rewritten; ``sleepy registry verify`` and ``repair``; and a night
killed in the gate, which must leave no ``candidate`` on a release that was never gated."""

import hashlib
import json

import pytest
from conftest import needs_rustc
from test_registry_gate import make_release
from typer.testing import CliRunner, Result

from sleepy.adapters.registry import BASE, Registry, RegistryDamaged
from sleepy.cli import app

runner = CliRunner()
TORN = '{"time": "2030-01-01T00:00:00+00:00", "who": "x", "alias": "produc'  # a write cut short by a crash


@pytest.fixture
def ws(tmp_path):
    """A workspace whose registry holds releases a and b: production a then b, candidate b."""
    ws = tmp_path / "ws"
    reg = Registry(ws / "registry")
    a = make_release(reg, tmp_path, b"weights-a")
    b = make_release(reg, tmp_path, b"weights-b", parent=a.id)
    reg.promote(a.id, "night 1")
    reg.promote(b.id, "night 2")
    reg.move("candidate", b.id, "night 2")
    return ws, reg, a, b


def cli(ws, *args: str) -> Result:
    return runner.invoke(app, [*args, "-w", str(ws)])


def lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


def assert_one_line(result: Result, code: int, *names: object) -> str:
    """Exit ``code`` with one line of output that names every one of ``names``: no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.exit_code == code, result.output
    out = lines(result)
    assert len(out) == 1, result.output
    assert all(str(n) in out[0] for n in names), out[0]
    return out[0]


def damage(path, how: str) -> None:
    if how == "truncate":
        text = path.read_text()
        path.write_text(text[: len(text) // 2])
    elif how == "garbage":
        path.write_bytes(b"\x00\xffnot json{")
    elif how == "delete":
        path.unlink()


# ---------------------------------------------------------------------------------------------- readers


def test_torn_last_history_line_is_skipped_and_named(ws):
    ws, reg, a, b = ws
    history = reg.root / "history.jsonl"
    with history.open("a") as fh:
        fh.write(TORN)
    listed = cli(ws, "releases")
    assert listed.exit_code == 0 and a.id in listed.output and b.id in listed.output
    warned = [line for line in lines(listed) if "history.jsonl" in line]
    assert len(warned) == 1 and str(history) in warned[0] and "line 4 (the last) torn" in warned[0]
    back = cli(ws, "rollback")  # the torn line is a move that never happened: rollback reads the rest
    assert back.exit_code == 0 and f"production: {b.id} -> {a.id}" in back.output
    assert sum("history.jsonl" in line for line in lines(back)) == 1
    raw = history.read_text().splitlines()
    assert raw[3] == TORN and json.loads(raw[4])["to"] == a.id  # the next move started a fresh line
    fresh = Registry(reg.root)
    assert [h["to"] for h in fresh.history()] == [a.id, b.id, b.id, a.id] and len(fresh.warnings) == 1
    assert "line 4 torn" in fresh.warnings[0]  # no longer the last line


@pytest.mark.parametrize("command", [["releases"], ["rollback"], ["eval", "--release", "production"]])
def test_truncated_aliases_is_one_line_naming_it(ws, command):
    ws, reg, _, _ = ws
    damage(reg.root / "aliases.json", "truncate")
    line = assert_one_line(cli(ws, *command), 2, reg.root / "aliases.json")
    assert line.startswith("error:") and "not valid JSON" in line and "sleepy registry repair" in line


@pytest.mark.parametrize(("file", "how", "what"), [("manifest.json", "garbage", "not valid JSON"),
                                                   ("files.json", "delete", "missing"),
                                                   ("files.json", "truncate", "not valid JSON")])
def test_damaged_release_is_one_line_naming_the_file(ws, file, how, what):
    ws, reg, a, b = ws
    path = b.folder / file
    damage(path, how)
    for command in (["eval", "--release", "production"], ["rollback", "--to", b.id], ["promote", b.id]):
        line = assert_one_line(cli(ws, *command), 2, path, what)
        assert line.startswith("error:"), command
    listed = cli(ws, "releases")  # the listing goes on without it, and says why
    assert listed.exit_code == 0 and a.id in listed.output
    warned = [line for line in lines(listed) if str(path) in line]
    assert len(warned) == 1 and warned[0].startswith("warning:") and what in warned[0]
    back = cli(ws, "rollback")  # production off the damaged release: the way out still works
    assert back.exit_code == 0 and reg.resolve("production") == a.id


@pytest.mark.parametrize("changed", ["skills/s1/adapter_model.safetensors", "manifest.json"])
def test_a_file_changed_with_its_list_rewritten_is_refused(ws, changed):
    ws, reg, a, b = ws
    target = b.folder / changed
    target.write_bytes(target.read_bytes() + b" ")  # still valid JSON for the manifest
    files = json.loads((b.folder / "files.json").read_text())
    files[changed] = hashlib.sha256(target.read_bytes()).hexdigest()  # every hash in the list matches again
    (b.folder / "files.json").write_text(json.dumps(files, indent=2, sort_keys=True))
    with pytest.raises(RegistryDamaged, match="hashes to release id .* not " + b.id):
        reg.get(b.id)
    assert_one_line(cli(ws, "eval", "--release", "production"), 2, b.folder / "files.json", "rewritten")
    assert_one_line(cli(ws, "rollback", "--to", b.id), 2, b.folder / "files.json")


def test_an_untouched_release_still_loads_with_its_id_checked(ws):
    """Releases sealed before the id was checked on load used the same formula: nothing to migrate."""
    _, reg, a, b = ws
    assert reg.get(b.id).parent == a.id and {r.id for r in reg.list()} == {a.id, b.id}


# ---------------------------------------------------------------------------------------------- verify


def test_verify_a_sound_registry(ws):
    ws, reg, _, _ = ws
    assert_one_line(cli(ws, "registry", "verify"), 0, "2 release(s)", "sound")


def test_verify_prints_one_line_per_problem_and_exits_1(ws):
    ws, reg, a, b = ws
    with (reg.root / "history.jsonl").open("a") as fh:
        fh.write(TORN)
    (a.folder / "skills" / "s1" / "adapter_model.safetensors").write_bytes(b"tampered")
    damage(b.folder / "files.json", "delete")
    (reg.root / "aliases.json").write_text(json.dumps({"production": a.id, "candidate": b.id}))
    result = cli(ws, "registry", "verify")
    assert result.exit_code == 1 and "Traceback" not in result.output
    out = lines(result)
    expected = [(a.folder / "skills" / "s1" / "adapter_model.safetensors", "corrupted"),
                (b.folder / "files.json", "missing"),
                (reg.root / "history.jsonl", "line 4 (the last) torn"),
                (reg.root / "aliases.json", f"production is {a.id} but the last move in history.jsonl set it to "
                                            f"{b.id}")]
    assert len(out) == len(expected), result.output
    for path, what in expected:
        assert sum(str(path) in line and what in line for line in out) == 1, (path, what, result.output)


def test_verify_names_a_truncated_aliases_file(ws):
    ws, reg, _, _ = ws
    damage(reg.root / "aliases.json", "truncate")
    assert_one_line(cli(ws, "registry", "verify"), 1, reg.root / "aliases.json", "not valid JSON")


# ---------------------------------------------------------------------------------------------- repair


def test_repair_drops_torn_history_quarantines_and_rebuilds_aliases(ws):
    ws, reg, a, b = ws
    history = reg.root / "history.jsonl"
    with history.open("a") as fh:
        fh.write(TORN)
    damage(b.folder / "manifest.json", "garbage")
    damage(reg.root / "aliases.json", "truncate")
    result = cli(ws, "registry", "repair")
    assert result.exit_code == 0 and "Traceback" not in result.output
    out = lines(result)
    assert len(out) == 7, result.output
    assert "line 4 (the last) torn" in out[0] and "dropped it (backup:" in out[0]
    assert f"quarantined release {b.id} to {reg.root / 'quarantine' / b.id}" in out[1]
    assert str(b.folder / "manifest.json") in out[1]
    assert out[2] == f"moved production off release {b.id} to {a.id}"
    assert out[3] == f"moved candidate off release {b.id} to {BASE}"
    assert out[4].startswith(f"{reg.root / 'aliases.json'}: not valid JSON") and "copied aside" in out[4]
    assert out[5:] == [f"{reg.root / 'aliases.json'}: candidate -> {BASE} (rebuilt from history.jsonl)",
                       f"{reg.root / 'aliases.json'}: production -> {a.id} (rebuilt from history.jsonl)"]
    assert reg.aliases() == {"production": a.id, "candidate": BASE}
    backups = list(reg.root.glob("history.jsonl.bak-*"))
    assert len(backups) == 1 and backups[0].read_text().endswith(TORN)
    assert TORN not in history.read_text()
    assert (reg.root / "quarantine" / b.id / "skills").is_dir() and not b.folder.exists()
    assert [h["why"].startswith("registry repair") for h in reg.history()][-2:] == [True, True]
    assert_one_line(cli(ws, "registry", "verify"), 0, "1 release(s)", "sound")
    assert_one_line(cli(ws, "registry", "repair"), 0, "nothing to repair")
    listed = cli(ws, "releases")
    assert listed.exit_code == 0 and "warning" not in listed.output


def test_repair_rebuilds_truncated_aliases_from_history(ws):
    ws, reg, a, b = ws
    damage(reg.root / "aliases.json", "truncate")
    result = cli(ws, "registry", "repair")
    assert result.exit_code == 0, result.output
    out = lines(result)
    assert "aliases.json: not valid JSON" in out[0] and "copied aside to aliases.json.bak-" in out[0]
    assert sorted(out[1:]) == sorted([f"{reg.root / 'aliases.json'}: candidate -> {b.id} (rebuilt from "
                                      "history.jsonl)",
                                      f"{reg.root / 'aliases.json'}: production -> {b.id} (rebuilt from "
                                      "history.jsonl)"])
    assert reg.aliases() == {"production": b.id, "candidate": b.id}
    assert cli(ws, "rollback").exit_code == 0 and reg.resolve("production") == a.id


def test_repair_waits_for_a_running_night(ws):
    ws, reg, _, _ = ws
    with reg.night_lock():
        assert_one_line(cli(ws, "registry", "repair"), 2, "another night is running")


# ---------------------------------------------------------------------------------------------- the night


@pytest.fixture
def failed_day(micro, tmp_path):
    """A store holding one day of failed micro-model episodes (what a night mines)."""
    from sleepy.adapters.lora import RoutedModel
    from sleepy.loop.day import day_tasks, run_day
    from sleepy.loop.episodes import EpisodeConfig
    from sleepy.memory.recall import ExperienceMemory
    from sleepy.memory.sqlite import SQLiteStore
    from sleepy.model.loader import load_model

    root, _ = micro
    store = SQLiteStore(tmp_path / "s.db")
    run_day(RoutedModel(load_model(str(root / "model")), None), store, ExperienceMemory(store),
            day_tasks("rust", 6, seed=9), EpisodeConfig(attempts=1, max_new_tokens=8, sources=("model",)),
            {"t": "night"})
    return root, store


@needs_rustc
def test_a_night_killed_in_the_gate_leaves_no_candidate(failed_day, tmp_path, monkeypatch):
    import sleepy.loop.night as night_module
    from sleepy.adapters.lora import LoraParams
    from sleepy.memory.recall import ExperienceMemory

    root, store = failed_day
    ws = tmp_path / "ws"
    reg = Registry(ws / "registry")
    cfg = night_module.NightConfig(min_failures=1, max_skills=1, teacher_budget=4, gate_seeds=1,
                                   holdout_per_family=1, max_new_tokens=8, skills="lora",
                                   lora=LoraParams(steps=2, rank=4, alpha=8))

    def killed(*_args):
        raise RuntimeError("killed in the gate")

    monkeypatch.setattr(night_module, "decide", killed)
    evals = ws / "evals"  # saved gate results, as the CLI keeps them: the rerun reuses production's
    with pytest.raises(RuntimeError, match="killed in the gate"):
        night_module.run_night(store, ExperienceMemory(store), reg, "rust", cfg, str(root / "model"), evals)
    assert len(reg.list()) == 1  # the candidate release was sealed...
    assert "candidate" not in reg.aliases() and reg.history() == []  # ...but no alias names it
    assert_one_line(cli(ws, "registry", "verify"), 0, "sound")

    monkeypatch.undo()
    rep = night_module.run_night(store, ExperienceMemory(store), reg, "rust", cfg, str(root / "model"), evals)
    assert rep.decision is not None and reg.resolve("candidate") == rep.candidate
    history = reg.history()
    assert history[-1]["alias"] == "candidate" and history[-1]["metrics"]  # moved last, with the verdict
    if rep.decision["promote"]:
        assert [h["alias"] for h in history] == ["production", "candidate"]
    else:
        gate = [json.loads(line) for line in (reg.root / "gate.jsonl").read_text().splitlines()]
        assert gate[-1]["release"] == rep.candidate and [h["alias"] for h in history] == ["candidate"]
