"""The Python task generator: its tasks are proven by the real verifier, deterministic and varied."""

import difflib
import os
import re
import subprocess
import sys
import warnings

import pytest

from sleepy.tasks.check import check_tasks
from sleepy.tasks.python_pack.generator import FAMILIES, SCENARIOS, generate, scenario_of

_ASSERT = re.compile(r"^\s*assert\b", re.MULTILINE)


def _seeds_covering_every_scenario(family: str, extra: int = 3) -> list[int]:
    """The first seed of each of the family's scenarios, plus a few more."""
    first: dict[str, int] = {}
    seed = 0
    while len(first) < len(SCENARIOS[family]):
        first.setdefault(scenario_of(family, seed), seed)
        seed += 1
    return sorted(set(first.values()) | set(range(5_000, 5_000 + extra)))


def _changed_lines(a: str, b: str) -> int:
    """Non-blank lines that differ between two programs."""
    a_lines = [line for line in a.splitlines() if line.strip()]
    b_lines = [line for line in b.splitlines() if line.strip()]
    ops = difflib.SequenceMatcher(a=a_lines, b=b_lines, autojunk=False).get_opcodes()
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal")


def test_families_are_the_contracted_ones():
    assert FAMILIES == ("name-import", "type-error", "attribute", "none-handling", "index-key", "logic")
    assert tuple(SCENARIOS) == FAMILIES
    assert all(len(SCENARIOS[f]) >= 3 for f in FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_every_scenario_is_proven_by_the_verifier(family):
    tasks = [generate(family, seed) for seed in _seeds_covering_every_scenario(family)]
    outcomes = check_tasks(tasks, jobs=2)
    problems = [f"{o.task.id} ({scenario_of(family, int(o.task.id.rsplit('-', 1)[1]))}): {o.problem}"
                for o in outcomes if not o.ok]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("family", FAMILIES)
def test_tasks_have_the_contracted_shape(family):
    for seed in range(150):
        task = generate(family, seed)
        where = f"{family} seed {seed} ({scenario_of(family, seed)})"
        assert task.id == f"gen-py-{family}-{seed}"
        assert (task.pack, task.family, task.origin) == ("python", family, "generated")
        assert task.signature and task.signature.startswith("py:"), where
        assert task.description and "\n" not in task.description, where
        for text in (task.source, task.fix):
            assert 8 <= len(text.splitlines()) <= 40, where
            with warnings.catch_warnings():  # "2(a + b)" is a planted bug that also warns
                warnings.simplefilter("ignore", SyntaxWarning)
                compile(text, "main.py", "exec")
        asserts = len(_ASSERT.findall(task.source))
        assert 2 <= asserts <= 4 and len(_ASSERT.findall(task.fix)) == asserts, where
        assert task.source.rstrip().splitlines()[-1].lstrip().startswith("assert"), where
        assert 1 <= _changed_lines(task.source, task.fix) <= 3, where


def test_each_scenario_keeps_one_signature():
    seen: dict[tuple[str, str], set[str]] = {}
    for family in FAMILIES:
        for seed in range(200):
            seen.setdefault((family, scenario_of(family, seed)), set()).add(generate(family, seed).signature)
    assert all(len(sigs) == 1 for sigs in seen.values()), {k: v for k, v in seen.items() if len(v) > 1}


def test_generation_is_deterministic():
    for family in FAMILIES:
        for seed in (0, 1, 77, 10_000_003):
            assert generate(family, seed) == generate(family, seed)
    assert generate("logic", 1) != generate("logic", 2)


@pytest.mark.parametrize("family", FAMILIES)
def test_seeds_give_distinct_programs(family):
    sources = {generate(family, seed).source for seed in range(300)}
    assert len(sources) >= 250


def test_unknown_family_is_rejected_by_name():
    with pytest.raises(ValueError, match="borrow"):
        generate("borrow", 1)
    with pytest.raises(ValueError, match="nope"):
        scenario_of("nope", 1)


def test_generation_does_not_depend_on_the_hash_seed():
    code = "from sleepy.tasks.python_pack.generator import generate; print(generate('index-key', 41).source, end='')"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert other.stdout == generate("index-key", 41).source
