"""Repairs at the lines a Python failure points to (sleepy.tasks.pyrepair), verified by running the program:
each operator on a small program of its own, the checks never edited, and a day that counts a repair only
when the program passes."""

import pytest

from sleepy.tasks import pyrepair
from sleepy.tasks.hints import tool_candidates
from sleepy.tasks.task import Task
from sleepy.tasks.verify import verify


def _task(source: str) -> Task:
    return Task("t", "python", "logic", source, origin="user")


def _repaired(source: str, repairs: int = 16) -> tuple[str, str] | None:
    """(hint, program) of the first candidate that passes, from the hints then the repairs."""
    task = _task(source)
    verdict = verify(task)
    assert not verdict.passed
    for c in tool_candidates("python", source, verdict.diagnostics, 8, repairs=repairs).candidates:
        if verify(task, c.program).passed:
            return c.origin + " " + c.hint, c.program
    return None


CASES = {
    "off-by-one bound": ("""\
def pair_sums(xs):
    out = []
    for i in range(len(xs)):
        out.append(xs[i] + xs[i + 1])
    return out


assert pair_sums([1, 2, 4]) == [3, 6]
""", "range(len(xs) - 1)"),
    "comparison": ("""\
def passing(scores, mark):
    return [s for s in scores if s > mark]


assert passing([40, 50, 70], 50) == [50, 70]
""", "s >= mark"),
    "boolean": ("""\
def is_weekend(day):
    return day == "sat" and day == "sun"


assert is_weekend("sun") and is_weekend("sat") and not is_weekend("mon")
""", 'day == "sat" or day == "sun"'),
    "missing return": ("""\
def normalise(words):
    cleaned = [w.strip().lower() for w in words]
    cleaned.sort()


assert normalise([" b", "A "])[0] == "a"
""", "return cleaned"),
    "dict read before the key exists": ("""\
def tally(events):
    counts = {}
    for name in events:
        counts[name] += 1
    return counts


assert tally(["a", "b", "a"]) == {"a": 2, "b": 1}
""", "counts.get(name, 0) + 1"),
    "grouped append": ("""\
def by_initial(names):
    groups = {}
    for name in names:
        groups[name[0]].append(name)
    return groups


assert by_initial(["ann", "bo", "al"]) == {"a": ["ann", "al"], "b": ["bo"]}
""", "groups.setdefault(name[0], []).append(name)"),
    "method of another container": ("""\
def unique_words(text):
    seen = []
    for word in text.split():
        seen.add(word)
    return sorted(seen)


assert unique_words("b a b") == ["a", "b"]
""", "seen = set()"),
    "join the wrong way round": ("""\
def csv_line(cells):
    return [c.strip() for c in cells].join(",")


assert csv_line([" a", "b "]) == "a,b"
""", '",".join('),
    "text read as a number": ("""\
def over_limit(rows, limit):
    return [r for r in rows if r["qty"] > limit]


assert over_limit([{"qty": "7"}, {"qty": "2"}], 5) == [{"qty": "7"}]
""", 'int(r["qty"])'),
    "sort used for its value": ("""\
def middle(values):
    ordered = values.sort()
    return ordered[len(ordered) // 2]


assert middle([3, 1, 2]) == 2
""", "ordered = sorted(values)"),
    "append used for its value": ("""\
def with_total(rows):
    rows = rows.append(sum(rows))
    return rows


assert with_total([1, 2]) == [1, 2, 3]
""", "    rows.append(sum(rows))\n    return rows"),
    "a match anchored at the start": ("""\
import re


def version(tag):
    return tuple(int(p) for p in re.match(r"(\\d+)\\.(\\d+)", tag).groups())


assert version("v1.2") == (1, 2)
""", "re.search("),
    "a loop over a number": ("""\
def squares(n):
    return [i * i for i in n]


assert squares(3) == [0, 1, 4]
""", "in range(n)"),
    "another language's method": ("""\
def backwards(word):
    return word.upper().reverse()


assert backwards("abc") == "CBA"
""", "word.upper()[::-1]"),
    "a Python 2 dict method": ("""\
def priciest(prices):
    return max(name for name, cost in prices.iteritems() if cost > 2)


assert priciest({"tea": 3, "bun": 1, "pie": 4}) == "tea"
""", "prices.items()"),
    "a key the file never writes": ("""\
def row(team, scored, conceded):
    return {"team": team, "for": scored, "against": conceded}


def goal_difference(r):
    return r["goals_for"] - r["against"]


assert goal_difference(row("ajax", 5, 2)) == 3
""", 'r["for"]'),
    "a shared mutable default": ("""\
class Basket:
    def __init__(self, owner, items=[]):
        self.owner = owner
        self.items = items

    def add(self, item):
        self.items.append(item)


mine, yours = Basket("me"), Basket("you")
mine.add("pear")
assert yours.items == []
""", "items = [] if items is None else items"),
    "arguments in another order": ("""\
def fee(vehicle, hours, rates):
    return rates[vehicle] * hours


def total(stays, rates):
    return sum(fee(hours, vehicle, rates) for vehicle, hours in stays)


assert total([("car", 2), ("van", 1)], {"car": 3, "van": 5}) == 11
""", "fee(vehicle, hours, rates)"),
    "a method of the elements called on the list": ("""\
def fields(line):
    return line.split(";").strip()


assert fields(" a; b ") == ["a", "b"]
""", '[item.strip() for item in line.split(";")]'),
    "a list as a dict key": ("""\
def visits(points):
    seen = {}
    for x, y in points:
        key = [x, y]
        seen[key] = seen.get(key, 0) + 1
    return seen


assert visits([(0, 0), (0, 0), (1, 2)]) == {(0, 0): 2, (1, 2): 1}
""", "seen[tuple(key)] = seen.get(tuple(key), 0) + 1"),
    "a property called": ("""\
class Cart:
    def __init__(self, prices):
        self.prices = prices

    @property
    def total(self):
        return sum(self.prices)


def doubled(cart):
    return cart.total() * 2


assert doubled(Cart([10, 20])) == 60
""", "return cart.total * 2"),
    "a method used as a value": ("""\
class Timer:
    def __init__(self, start, stop):
        self.start, self.stop = start, stop

    def elapsed(self):
        return self.stop - self.start


def overtime(timer, limit):
    return max(timer.elapsed - limit, 0)


assert overtime(Timer(3, 10), 5) == 2
""", "timer.elapsed() - limit"),
    "an attribute set only under an if": ("""\
class Tally:
    def __init__(self, name, start=None):
        self.name = name
        if start is not None:
            self.count = start

    def bump(self):
        self.count += 1
        return self.count


assert Tally("clicks").bump() == 1
assert Tally("views", 5).bump() == 6
""", "        self.count = 0\n        if start is not None:"),
    "the slice an index ran off": ("""\
def last_gaps(xs, k):
    tail = xs[len(xs) - k + 1:]
    return [tail[i + 1] - tail[i] for i in range(k - 1)]


assert last_gaps([1, 4, 9, 16], 3) == [5, 7]
""", "xs[len(xs) - k:]"),
    "a read without a default met arithmetic": ("""\
BONUS = {"gold": 50, "silver": 20}


def points(level, base):
    extra = BONUS.get(level)
    return base + extra


assert points("gold", 10) == 60
assert points("none", 10) == 10
""", 'BONUS.get(level, 0)'),
    "a chained method that hands back nothing": ("""\
class Path:
    def __init__(self):
        self.steps = []

    def go(self, step):
        self.steps.append(step)
        return self

    def turn(self, side):
        self.steps.append("turn " + side)


route = Path().go("a").turn("left").go("b")
assert route.steps == ["a", "turn left", "b"]
""", "        self.steps.append(\"turn \" + side)\n        return self"),
    "a pop from an empty stack in a condition": ("""\
def nested_ok(tags):
    open_tags = []
    for tag in tags:
        if tag.startswith("/"):
            if open_tags.pop() != tag[1:]:
                return False
        else:
            open_tags.append(tag)
    return not open_tags


assert nested_ok(["a", "b", "/b", "/a"])
assert not nested_ok(["a", "/a", "/b"])
""", "if not open_tags or open_tags.pop() != tag[1:]:"),
    "what a failed check reads, computed by the script": ("""\
class Meter:
    def __init__(self):
        self.total = 0

    def add(self, units):
        self.total += units
        return self.total > 10


meter = Meter()
alarms = [meter.add(u) for u in (4, 6, 1)]
assert alarms == [False, True, True]
""", "self.total >= 10"),
    "a list read as a dict": ("""\
def totals(pairs):
    return {name: qty * 2 for name, qty in pairs.items()}


assert totals([("a", 1), ("b", 2)]) == {"a": 2, "b": 4}
""", "in pairs}"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_operator_repairs_its_own_program(case):
    source, expected = CASES[case]
    found = _repaired(source)
    assert found is not None, case
    hint, program = found
    assert hint.startswith("tool:repair") and expected in program


def test_without_repairs_the_same_programs_get_no_passing_candidate():
    """The hints alone solve none of them: what passes above is the repairs' doing."""
    assert all(_repaired(source, repairs=0) is None for source, _ in CASES.values())


def test_checks_and_tests_are_never_edited_only_the_code_they_check():
    source = """\
def is_even(n):
    return n % 2 == 1


def test_even():
    assert is_even(4) == True


test_even()
assert is_even(3) == False
"""
    tree = __import__("ast").parse(source)
    task = _task(source)
    diag = verify(task).diagnostics[0]
    editable = pyrepair.editable_lines(tree, diag, pyrepair.frame_lines(diag, None))
    assert editable == {2}
    candidates = pyrepair.repairs(source, diag)
    assert candidates and all(c.program.splitlines()[2:] == source.splitlines()[2:] for c in candidates)
    assert any(verify(task, c.program).passed for c in candidates)  # n % 2 != 1, in the function


def test_a_crash_at_the_top_level_is_repaired_there_but_a_failed_check_is_not():
    crash = 'stock = {"a": 1}\nfor k in ["a", "b"]:\n    stock[k] += 1\nassert stock == {"a": 2, "b": 1}\n'
    found = _repaired(crash)
    assert found and "stock.get(k, 0) + 1" in found[1]
    check = "limit = 3\nok = [x for x in [1, 5] if x < limit]\nassert ok == [1, 5]\n"
    diag = verify(_task(check)).diagnostics[0]
    found = pyrepair.repairs(check, diag)  # the statement the check reads: its operators, never its data
    assert found and all(c.program.splitlines()[0] == "limit = 3" and c.program.endswith("assert ok == [1, 5]\n")
                         and "[1, 5] if" in c.program for c in found)
    assert not any(verify(_task(check), c.program).passed for c in found)


def test_a_program_that_does_not_parse_or_has_no_traceback_gets_no_repairs():
    broken = "def f(:\n    return 1\n"
    diag = verify(_task(broken)).diagnostics[0]
    assert pyrepair.repairs(broken, diag) == []


def test_candidates_stay_within_the_limit_and_every_one_parses():
    source = CASES["off-by-one bound"][0]
    diag = verify(_task(source)).diagnostics[0]
    few = pyrepair.repairs(source, diag, limit=3)
    assert len(few) == 3
    for c in pyrepair.repairs(source, diag, limit=50):
        compile(c.program, "<repair>", "exec")


def test_a_day_counts_a_repair_only_when_it_passes_or_gets_further_down_the_script(tmp_path):
    """A real day (tools only) on a folder of two tasks: the one a repair passes is solved by tool:repair;
    the other, where repairs only change the error at the same check, is not solved and no repair became its
    next program."""
    from sleepy.config import Settings
    from sleepy.loop.episodes import day_config, run_episodes

    solvable = _task(CASES["comparison"][0])
    wandering = Task("w", "python", "logic", """\
def fee(minutes):
    hours = minutes // 60
    return hours * 2 - 1


assert fee(150) == 6
""", origin="user")
    cfg = day_config(Settings(workspace=tmp_path, candidates=["tool"]))
    episodes = run_episodes(None, [solvable, wandering], cfg, memory=None)
    solved = {e.task.id: e for e in episodes}
    assert solved["t"].passed and solved["t"].winning.origin == "tool:repair"
    assert not solved["w"].passed
    assert all(not s.progress for step in solved["w"].steps for s in step.samples if s.origin == "tool:repair")


def test_an_attribute_the_class_does_not_have_becomes_the_one_it_has():
    source = """\
class Loan:
    def __init__(self, title, days):
        self.title = title
        self.due = days


def overdue(loans, today):
    return [loan.title for loan in loans if loan.due_date < today]


assert overdue([Loan("a", 3), Loan("b", 9)], 5) == ["a"]
"""
    found = _repaired(source)
    assert found and "loan.due < today" in found[1] and "(Loan has it)" in found[0]


def test_a_script_with_two_slips_is_repaired_one_slip_at_a_time(tmp_path):
    """The crash is repaired first (the step that gets past its line to the next check, not ``xs[i + 1]`` ->
    ``xs[i]``, which fails the same check), then the comparison; no single edit fixes both."""
    from sleepy.config import Settings
    from sleepy.loop.episodes import day_config, run_episodes
    from sleepy.tasks.verify import reached, went_further

    source = CASES["off-by-one bound"][0] + "\n\n" + CASES["comparison"][0]
    task = Task("two", "python", "logic", source, origin="user")
    before = verify(task)
    assert before.primary.code == "IndexError" and reached(before) == 8
    wrong = verify(task, source.replace("xs[i + 1]", "xs[i]"))
    right = verify(task, source.replace("range(len(xs))", "range(len(xs) - 1)"))
    assert reached(wrong) == 8 and not went_further(before, wrong)
    assert reached(right) == 15 and went_further(before, right) and not went_further(right, before)
    assert _repaired(source) is None  # one edit is not enough
    cfg = day_config(Settings(workspace=tmp_path, candidates=["tool"]))
    (episode,) = run_episodes(None, [task], cfg, memory=None)
    assert episode.passed and episode.winning.origin == "tool:repair"
    steps = [s for step in episode.steps for s in step.samples if s.progress]
    assert [s.origin for s in steps] == ["tool:repair"] and "len(xs) - 1" in steps[0].candidate
    assert "s >= mark" in episode.winning.candidate and "len(xs) - 1" in episode.winning.candidate


def test_a_step_further_is_read_off_the_frames_and_a_wrong_value_for_a_check_is_none():
    """From the top-level statement down, the first frame where two runs differ decides; a crash that moved up
    into the caller after the callee returned is further, unless the caller is the check itself."""
    from sleepy.tasks.verify import went_further

    source = """\
def hours(start, stop):
    return stop - start


def fee(kind, start, stop):
    rate = {"car": 2}[kind]
    cost = rate * hours(start, stop)


def total(stays):
    return sum(fee(kind, a, b) for kind, a, b in stays)


assert total([("car", 1, 3)]) == 4
"""
    task = _task(source.replace("fee(kind, a, b)", "fee(a, b, kind)"))
    crash_inside = verify(task)  # KeyError inside fee
    returned = verify(task, source)  # fee returns None: TypeError in sum, in total
    fixed = verify(task, source.replace("    cost = rate", "    return rate"))
    wrong_value = verify(task, source.replace("    cost = rate", "    return 0 * rate"))  # the check fails
    assert crash_inside.primary.code == "KeyError" and returned.primary.code == "TypeError"
    assert went_further(crash_inside, returned) and not went_further(returned, crash_inside)
    assert fixed.passed and not went_further(crash_inside, fixed)  # passing is not "further": it is done
    assert wrong_value.primary.code == "AssertionError" and not went_further(crash_inside, wrong_value)
