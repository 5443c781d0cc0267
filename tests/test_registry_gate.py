"""Registry atomicity, history, hash-mismatch refusal, rollback; gate decisions."""

import json

import pytest

from sleepy.adapters.registry import BASE, Registry, RegistryError, SkillInfo
from sleepy.loop.evaluate import EvalReport, EvalRow
from sleepy.loop.gate import decide


def make_release(reg: Registry, tmp_path, payload: bytes, parent=None):
    staging = tmp_path / f"staging-{payload.hex()[:8]}"
    (staging / "skills" / "s1").mkdir(parents=True)
    (staging / "skills" / "s1" / "adapter_model.safetensors").write_bytes(payload)
    return reg.create(staging, "/models/base", "abc", {"rust:E0277:x": "s1"},
                      [SkillInfo("s1", "lora", ["rust:E0277:x"], "skills/s1", 10)], parent)


def test_releases_are_content_addressed_and_immutable(tmp_path):
    reg = Registry(tmp_path / "reg")
    a = make_release(reg, tmp_path, b"weights-a")
    again = make_release(reg, tmp_path, b"weights-a")
    assert a.id == again.id and len(reg.list()) == 1
    b = make_release(reg, tmp_path, b"weights-b", parent=a.id)
    assert b.id != a.id and reg.get(b.id).parent == a.id
    files = json.loads((b.folder / "files.json").read_text())
    assert "skills/s1/adapter_model.safetensors" in files and "manifest.json" in files


def test_promote_rollback_and_history(tmp_path):
    reg = Registry(tmp_path / "reg")
    a = make_release(reg, tmp_path, b"a")
    b = make_release(reg, tmp_path, b"b")
    assert reg.resolve("production") == BASE
    reg.promote(a.id, "night 1", {"regressions": 0})
    reg.promote(b.id, "night 2")
    assert reg.resolve("production") == b.id
    entry = reg.rollback()
    assert entry["from"] == b.id and entry["to"] == a.id and reg.resolve("production") == a.id
    reg.rollback(to=BASE)
    assert reg.resolve("production") == BASE
    history = reg.history()
    assert [h["to"] for h in history] == [a.id, b.id, a.id, BASE]
    assert all({"time", "who", "why", "metrics", "from"} <= set(h) for h in history)


def test_alias_file_is_never_half_written(tmp_path, monkeypatch):
    reg = Registry(tmp_path / "reg")
    a = make_release(reg, tmp_path, b"a")
    reg.promote(a.id, "first")
    before = (reg.root / "aliases.json").read_text()

    def crash(*_args):
        raise OSError("disk full")

    import sleepy.adapters.registry as registry_module
    monkeypatch.setattr(registry_module.os, "replace", crash)
    b = a  # any target: the write fails before the rename
    with pytest.raises(OSError):
        reg.move("candidate", b.id, "will fail")
    assert (reg.root / "aliases.json").read_text() == before
    assert json.loads(before)["production"] == a.id


def test_corrupted_release_is_refused(tmp_path):
    reg = Registry(tmp_path / "reg")
    a = make_release(reg, tmp_path, b"good weights")
    (a.folder / "skills" / "s1" / "adapter_model.safetensors").write_bytes(b"tampered")
    with pytest.raises(RegistryError, match="corrupted"):
        reg.get(a.id)
    with pytest.raises(RegistryError, match="corrupted"):
        reg.promote(a.id, "should refuse")
    assert reg.resolve("production") == BASE


def test_unknown_release_is_a_clear_error(tmp_path):
    with pytest.raises(RegistryError, match="unknown release 'nope'"):
        Registry(tmp_path / "reg").get("nope")


def report(results: dict[str, bool], seed=0, set_="frozen") -> EvalReport:
    return EvalReport("r", "rust", "m", seed, 1, 0.0,
                      [EvalRow(t, set_, "borrow", True, "sig", ok, None, "") for t, ok in results.items()])


def test_one_regression_blocks_even_a_higher_pass_rate():
    prod = [report({"a": True, "b": False, "c": False, "d": False}, s) for s in range(3)]
    cand = [report({"a": False, "b": True, "c": True, "d": True}, s) for s in range(3)]
    d = decide(prod, cand)
    assert not d.promote and d.regressions == ["frozen/a"] and "regression" in d.reason
    assert d.candidate_passes["frozen"] > d.production_passes["frozen"]


def test_majority_over_seeds_and_promotion():
    prod = [report({"a": True, "b": False}, s) for s in range(3)]
    # candidate loses "a" in one seed of three: still a majority pass, so no regression
    cand = [report({"a": s != 1, "b": True}, s) for s in range(3)]
    d = decide(prod, cand)
    assert d.promote and d.regressions == [] and d.improvements == ["frozen/b"]


def test_no_improvement_keeps_production():
    same = [report({"a": True, "b": False}, s) for s in range(3)]
    d = decide(same, same)
    assert not d.promote and d.reason == "no improvement over production"
