"""The Python mutation operators break a project the way people do: whole statements, never syntax."""

import ast
import random

from sleepy.tasks.project.mutate import _python_mutations

SOURCE = '''from os.path import (
    join,
    exists,
)
import re


def locate(name, root):
    if name is None:
        return None
    if root is None:
        raise ValueError(
            "no root")
    return join(root, name[0]) if exists(root) else re.sub("a", "b", name[0])


def show(names):
    for i in range(len(names)):
        if names[i] is None:
            continue
        print(names[i])
'''


def _mutants(operator):
    found = {}
    for seed in range(40):
        for mutation in _python_mutations(SOURCE, random.Random(seed), 6):
            if mutation.operator == operator:
                found[mutation.source] = mutation
    return list(found.values())


def test_every_mutant_parses_and_changes_the_code():
    operators = set()
    for seed in range(40):
        for mutation in _python_mutations(SOURCE, random.Random(seed), 6):
            ast.parse(mutation.source)
            assert mutation.source != SOURCE
            operators.add(mutation.operator)
    assert operators == {"drop-import", "misspell", "drop-none-check", "shift-index"}


def test_a_parenthesised_import_is_dropped_whole():
    dropped = {frozenset(set(SOURCE.splitlines()) - set(m.source.splitlines())) for m in _mutants("drop-import")}
    assert frozenset({"from os.path import (", "    join,", "    exists,", ")"}) in dropped
    assert frozenset({"import re"}) in dropped


def test_a_none_check_is_dropped_with_its_whole_body():
    sources = [m.source for m in _mutants("drop-none-check")]
    assert any("no root" not in s and "if root is None" not in s for s in sources)
    assert any("if names[i] is None" not in s and "continue" not in s for s in sources)
    assert all(s.count("is None") == SOURCE.count("is None") - 1 for s in sources)


def test_a_file_that_does_not_parse_gives_no_mutants():
    assert _python_mutations("def broken(:\n    pass\n", random.Random(1), 3) == []
