"""Generated tasks name things from a large vocabulary, so a model has to copy names, not recall them."""

import random
import re

import pytest

from sleepy.tasks import vocabulary
from sleepy.tasks.packs import get_pack
from sleepy.tasks.python_pack import generator as py_gen
from sleepy.tasks.rust_pack import generator as rs_gen


@pytest.mark.parametrize("pack", ["rust", "python"])
def test_generated_programs_use_many_distinct_names(pack):
    p = get_pack(pack)
    words: set[str] = set()
    for family in p.families:
        for seed in range(30):
            source = p.generate(family, seed).source
            words |= {w for ident in re.findall(r"[a-z_]+", source) for w in ident.split("_") if len(w) > 3}
    from_vocabulary = words & set(vocabulary.NOUNS)
    # 180 programs: the old short lists had 30 nouns; the vocabulary should supply far more.
    assert len(from_vocabulary) > 100, len(from_vocabulary)


def test_made_up_words_are_fresh_and_drawn_sometimes():
    source = vocabulary.WordSource(random.Random(3), frozenset())
    drawn = [source.word() for _ in range(400)]
    made_up = [w for w in drawn if w not in vocabulary.NOUNS]
    assert 20 < len(made_up) < 120
    assert all(w.isidentifier() and w.islower() for w in made_up)


@pytest.mark.parametrize("module", [rs_gen, py_gen])
def test_excluded_words_are_never_drawn(module):
    source = vocabulary.WordSource(random.Random(0), module._VOCABULARY_EXCLUDE)
    drawn = {source.word() for _ in range(3000)}
    assert not drawn & module._VOCABULARY_EXCLUDE
    assert not drawn & {"some", "none", "move", "super", "final"}
