from collections import defaultdict

reviews = [
    ("kettle", 5), ("kettle", 4), ("kettle", 2),
    ("toaster", 3), ("toaster", 4),
    ("blender", 5),
]

totals = defaultdict(lambda: [0, 0])
for product, stars in reviews:
    totals[product][0] += stars
    totals[product][1] += 1

averages = {p: round(s / n, 2) for p, (s, n) in totals.items()}
best = max(averages, key=averages.get)

assert averages["kettle"] == 3.67
assert averages["toaster"] == 3.5
assert best == "blender"
