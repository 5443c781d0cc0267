import statistics

# Letter grades for a class, best students first.
CUTOFFS = [(90, "A"), (80, "B"), (70, "C"), (60, "D")]


def letter(score):
    for cutoff, grade in CUTOFFS:
        if score >= cutoff:
            return grade
    return "F"


def report(scores):
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
    return {
        "mean": round(statistics.mean(scores.values()), 1),
        "top": ranked[0][0],
        "order": [name for name, _ in ranked],
        "grades": {name: letter(score) for name, score in ranked},
    }


SCORES = {"Ravi": 90, "Anna": 78, "Ben": 85, "Chloe": 59, "Dev": 70, "Eva": 90}

r = report(SCORES)
print(r)
assert r["mean"] == 78.7
assert r["top"] == "Eva"
assert r["order"][-2:] == ["Dev", "Chloe"]
assert r["grades"]["Ben"] == "B"
assert r["grades"]["Ravi"] == "A"
assert r["grades"]["Dev"] == "C"
assert r["grades"]["Chloe"] == "F"
