"""A large vocabulary of identifier words for the task generators.

Why it exists: the first bundled model learnt the generators' short name lists by heart. On
hand-written koans it wrote identifiers from those lists instead of copying the ones in the program
(76 of 90 Rust failures were an anchor that is not in the source). Drawing most names from a few
hundred everyday nouns, plus made-up words that no list can predict, makes copying from the input
the only way to be right. The words are plain English written for this project; no koan shaped them.

Each generator passes the words its own templates already use (a frozen list, so that editing a
template's comment never changes which tasks a seed makes), and a drawn name never collides with a
template's locals or a keyword.
"""

from __future__ import annotations

import keyword
import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

_NOUN_TEXT = """
abbey acorn actor adapter admiral agenda agent album alloy altar amber anchor angle ankle antenna
anvil apple apron arbor arch archive arena armor arrow artist aspen atlas atom attic auction author
avenue award axle badge bagel baker balcony ballot bamboo banana bandit banner barn barrel basin
basket battery beacon beam bean beaver bell bench berry bicycle bishop blade blanket blossom boat
bolt bonnet border bottle boulder bracket branch bread bridge brook broom bucket budget buffalo
bugle bundle bunker butter button cabin cable cactus camera camel canal candle canoe canvas canyon
captain caravan carbon cargo carpet carrot castle cavern cedar cellar cement chair chalk channel
chapter charter cherry chimney chip circle citadel citizen clerk cliff climate clinic clock cloud
clover coach coast cobalt cocoa coffee coin collar colony comet compass concert condor copper coral
cornet cottage cotton council counter coupon courier crane crater crayon credit creek cricket crown
crystal cushion cypress dagger daisy dancer dealer decade deck delta desert diamond diary dinner
docket dolphin domain donkey donor dragon drawer driver drum eagle easel editor elbow elder element
ember emerald engine envelope episode falcon farmer feather fence ferry fiber fiddle figure finch
fjord flag flame flask fleet flute forest forge fossil fountain fox freight fridge galaxy gallery
garden garlic garnet gate gazette gecko gem geyser giant ginger glacier globe glove goblet granite
grape gravel griffin grocer guitar gull hammer harbor harp harvest hatch hawk helmet hermit heron
highway hive hockey honey horizon hornet hotel hound humor hunter icicle igloo island ivory jacket
jaguar jasmine jelly jersey jewel jigsaw jockey journal journey judge juggler jungle kayak kennel
kernel kettle kiosk kitchen kitten knight koala ladder lagoon lake lamp lantern laptop larch laser
lattice lawyer leaflet ledger legend lemon lentil letter lever library lily linen lion lizard
lobster locket locust lodge lotus lumber lunar magnet magpie mammal mango manor maple marble market
marsh mason meadow medal melon mentor merchant meteor mirror mitten mobile monk monsoon mosaic
motor mountain muffin mural museum mustard napkin nectar needle nickel noodle novel nugget nurse
oasis ocean olive onion opal opera orbit orchard orchid organ otter oven owl oyster paddle palace
panda panel parrot pastry pebble pelican pencil pepper pigeon pillar pilot pine pioneer pirate
planet plaza plum poet pony poster potato pottery prairie prism pulley pumpkin puppet quarry quartz
quill rabbit radar radish raft railway raisin ranger raven recipe reef relay ribbon ridge rifle
river robin rocket rover ruby saddle sailor salmon sample satchel sauce savanna scarf scholar
scooter scroll sculptor season senator shadow shelter sheriff shovel shrine signal silver singer
sketch sled slipper socket soldier sonnet spark sphere spider spinach spire sponge spruce squirrel
stable stadium statue steeple sticker stone storm stove stream studio summit sunset surgeon swan
sweater tablet tadpole tailor tango tavern teapot temple tenant terrace thistle thunder tiger timber
toaster tomato topaz tower tractor trader trail trainer trolley trophy trumpet tulip tundra tunnel
turbine turtle tutor umbrella unicorn valley vapor velvet vendor venture violin visitor volcano
voyage wagon waiter wallet walnut walrus warden weaver whale wheat whistle widget willow window
winter wizard wolf wombat worker yacht yarn yogurt zebra zenith zephyr zinc
"""
NOUNS = _NOUN_TEXT.split()

# Made-up words: a syllable grid no list can anticipate, so only copying gets them right.
_ONSETS = ("b", "br", "d", "dr", "f", "g", "gr", "k", "kr", "l", "m", "n", "p", "pr", "r", "s", "st", "t",
           "tr", "v", "z")
_VOWELS = ("a", "e", "i", "o", "u")
_CODAS = ("", "", "l", "n", "r", "m", "k", "st", "nd")
_KEYWORDS = set(keyword.kwlist) | set(keyword.softkwlist) | {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "box",
    "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "abstract", "become", "do",
    "final", "gen", "union", "str", "string", "vec", "option", "result", "some", "none", "ok", "err", "main",
}


def made_up_word(rng: random.Random) -> str:
    """A pronounceable two- or three-syllable word that is not English."""
    syllables = rng.choice((2, 2, 3))
    word = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables)) + rng.choice(_CODAS)
    return word


@cache
def usable_words(exclude: frozenset[str]) -> tuple[str, ...]:
    """The nouns a generator may use: none that its own templates already contain."""
    return tuple(w for w in NOUNS if w not in exclude and w not in _KEYWORDS)


DEFAULT_MADE_UP_RATE = 0.15
_made_up_rate: ContextVar[float] = ContextVar("made_up_rate", default=DEFAULT_MADE_UP_RATE)


@contextmanager
def made_up_names(rate: float) -> Iterator[None]:
    """Generate tasks whose vocabulary draws are made up at ``rate`` inside the block.

    Why: a pretraining stage whose names can only be copied, never recalled (``Preset.made_up_rate``).
    Everything else (day streams, holdout, tests) keeps the default, so a seed's task never changes.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"made-up name rate must be in [0, 1], got {rate}")
    token = _made_up_rate.set(rate)
    try:
        yield
    finally:
        _made_up_rate.reset(token)


class WordSource:
    """Draws identifier words: mostly from the large vocabulary, sometimes made up, sometimes from
    the generator's own short domain list (so familiar names stay in the mix)."""

    def __init__(self, rng: random.Random, exclude: frozenset[str], made_up_rate: float | None = None) -> None:
        self.rng = rng
        self.words = usable_words(exclude)
        self.made_up_rate = _made_up_rate.get() if made_up_rate is None else made_up_rate
        self.banned = exclude | _KEYWORDS

    def word(self) -> str:
        if self.rng.random() < self.made_up_rate:
            for _ in range(20):
                w = made_up_word(self.rng)
                if w not in self.banned:
                    return w
        return self.rng.choice(self.words)
