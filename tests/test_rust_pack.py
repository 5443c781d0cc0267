"""The Rust pack: every frozen koan proven with real rustc, and a sample of generated tasks too."""

from collections import Counter

import pytest
from conftest import needs_rustc

from sleepy.tasks.check import check_tasks
from sleepy.tasks.packs import get_pack
from sleepy.tasks.rust_pack.generator import FAMILIES, SCENARIOS, generate

pack = get_pack("rust")


def test_frozen_set_shape():
    frozen = pack.frozen()
    families = Counter(t.family for t in frozen)
    assert len(frozen) >= 40
    assert len(families) >= 5 and set(families) <= set(FAMILIES)
    for task in frozen:
        lines = task.source.count("\n")
        assert 8 <= lines <= 40, f"{task.id} has {lines} lines"
        assert task.signature and task.signature.startswith("rust:") and task.fix
        assert task.crate_type == "lib" or "fn main" in task.source, task.id


@needs_rustc
def test_every_frozen_koan_is_proven():
    outcomes = check_tasks(pack.frozen(), jobs=2)
    assert [f"{o.task.id}: {o.problem}" for o in outcomes if not o.ok] == []


@needs_rustc
@pytest.mark.parametrize("family", FAMILIES)
def test_generated_sample_is_proven(family):
    tasks = [generate(family, seed) for seed in range(900, 912)]
    outcomes = check_tasks(tasks, jobs=2)
    assert [f"{o.task.id}: {o.problem}" for o in outcomes if not o.ok] == []


def test_every_scenario_is_reachable():
    descriptions = {fam: {generate(fam, s).signature for s in range(200)} for fam in FAMILIES}
    for fam in FAMILIES:
        assert len(descriptions[fam]) >= 2, fam
    assert sum(len(v) for v in SCENARIOS.values()) >= 30


def test_generator_is_deterministic_and_diverse():
    assert generate("borrow", 42) == generate("borrow", 42)
    for fam in FAMILIES:
        sources = {generate(fam, s).source for s in range(400)}
        assert len(sources) >= 380, f"{fam}: only {len(sources)} distinct of 400"


def test_unknown_family_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown rust family 'nope'"):
        generate("nope", 1)


def test_stream_is_reproducible_and_round_robin():
    a, b = pack.stream(12, seed=3), pack.stream(12, seed=3)
    assert a == b and [t.family for t in a[:6]] == list(FAMILIES)
    assert pack.stream(12, seed=4) != a
