FACTORS_TO_METRES = {"mm": 0.001, "cm": 0.01, "m": 1.0, "km": 1000.0, "in": 0.0254, "ft": 0.3048}


def convert(value, from_unit, to_unit):
    metres = value * FACTORS_TO_METRES[from_unit]
    return metres / FACTORS_TO_METRES[to_unit]


def to_metres(value, unit):
    return convert(value, unit, "m")


readings = [(12, "in"), (3, "ft"), (250, "cm")]
total = sum(to_metres(v, u) for v, u in readings)

assert round(total, 4) == 3.7192
assert convert(1, "km", "m") == 1000.0
assert round(to_metres(500, "mm"), 3) == 0.5
