import math


def ring_area(outer, inner):
    return math.pi * (outer ** 2 - inner ** 2)


washers = {"M6": (6.0, 3.2), "M8": (8.0, 4.3), "M10": (10.0, 5.3)}
areas = {size: round(ring_area(o, i), 2) for size, (o, i) in washers.items()}
largest = max(areas, key=areas.get)

assert largest == "M10"
assert areas["M6"] == 80.93
assert all(a > 0 for a in areas.values())
