"""Single-elimination bracket for a club chess night."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Player:
    name: str
    rating: int


PLAYERS = [
    Player("Mira", 1710),
    Player("Oskar", 1540),
    Player("Hana", 1890),
    Player("Teo", 1540),
    Player("Lena", 1655),
    Player("Bram", 1402),
    Player("Ines", 1820),
    Player("Yusuf", 1475),
]

# Results that went against the ratings: (winner, loser).
UPSETS = {("Yusuf", "Ines")}


def seed(players):
    """Highest rating first; equal ratings in alphabetical order."""
    return sorted(players, key=lambda p: (-p.rating, p.name))


def bracket_order(n):
    """Seed numbers in bracket order, e.g. 4 -> [1, 4, 2, 3]."""
    if n == 1:
        return [1]
    order = []
    for s in bracket_order(n // 2):
        order.extend([s, n + 1 - s])
    return order


def build_tree(entrants):
    if len(entrants) == 1:
        return entrants[0]
    mid = len(entrants) // 2
    return (build_tree(entrants[:mid]), build_tree(entrants[mid:]))


def beats(a, b):
    if (a.name, b.name) in UPSETS:
        return True
    if (b.name, a.name) in UPSETS:
        return False
    return (a.rating, b.name) > (b.rating, a.name)


def play(node, log, depth=0):
    """Winner of a subtree; every match is appended to log as (depth, winner, loser)."""
    if isinstance(node, Player):
        return node
    left = play(node[0], log, depth + 1)
    rigth = play(node[1], log, depth + 1)
    if beats(left, right):
        win, lose = left, right
    else:
        win, lose = right, left
    log.append((depth, win.name, lose.name))
    return win


def rounds(log):
    deepest = max(depth for depth, _, _ in log)
    names = {0: "final", 1: "semi-final", 2: "quarter-final"}
    table = {}
    for depth, win, lose in log:
        title = names.get(depth, f"round of {2 ** (depth + 1)}")
        table.setdefault(title, []).append(f"{win} beat {lose}")
    return deepest + 1, table


seeded = seed(PLAYERS)
assert [p.name for p in seeded[:3]] == ["Hana", "Ines", "Mira"]
assert [p.name for p in seeded[4:6]] == ["Oskar", "Teo"]
assert bracket_order(8) == [1, 8, 4, 5, 2, 7, 3, 6]

entrants = [seeded[s - 1] for s in bracket_order(len(seeded))]
tree = build_tree(entrants)
log = []
champion = play(tree, log)
count, table = rounds(log)

assert count == 3
assert len(log) == 7
assert table["quarter-final"][0] == "Hana beat Bram"
assert "Yusuf beat Ines" in table["quarter-final"]
assert table["semi-final"] == ["Hana beat Lena", "Mira beat Yusuf"]
assert table["final"] == ["Hana beat Mira"]
assert champion.name == "Hana"
print(champion)
