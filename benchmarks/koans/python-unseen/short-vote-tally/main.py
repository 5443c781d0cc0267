# Count club election ballots; names are written by hand, so case and spaces vary.


def tally(ballots):
    counts = {}
    for name in ballots:
        key = name.strip().lower()
        counts[key] += 1
    return counts


def winner(ballots):
    counts = tally(ballots)
    return max(counts, key=counts.get)


BALLOTS = ["Alice", "bob ", " alice", "Carol", "ALICE", "Bob"]

result = tally(BALLOTS)
assert result == {"alice": 3, "bob": 2, "carol": 1}
assert winner(BALLOTS) == "alice"
assert tally([]) == {}
print(result)
