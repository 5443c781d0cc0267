"""Watering planner for an allotment: beds, plant needs, rainfall and a weekly schedule."""

import json
import math
from datetime import date, timedelta

PLANTS = {
    "tomato": {"litres_per_m2": 4.0, "every_days": 2},
    "lettuce": {"litres_per_m2": 3.0, "every_days": 1},
    "carrot": {"litres_per_m2": 2.5, "every_days": 3},
    "herbs": {"litres_per_m2": 1.5, "every_days": 4},
}

CAN_LITRES = 10

BEDS_JSON = """
[
  {"name": "north", "shape": "rect", "width": 1.2, "length": 3.0, "plant": "tomato"},
  {"name": "south", "shape": "rect", "width": 1.0, "length": 2.0, "plant": "lettuce"},
  {"name": "round", "shape": "circle", "radius": 0.8, "plant": "herbs"},
  {"name": "strip", "shape": "rect", "width": 0.5, "length": 4.0, "plant": "carrot"}
]
"""

RAIN_MM = {date(2024, 6, 3): 6.0, date(2024, 6, 6): 12.5}


def load_beds(text):
    beds = json.loads(text)
    for bed in beds:
        if bed["plant"] not in PLANTS:
            raise ValueError(f"unknown plant {bed['plant']!r} in bed {bed['name']}")
    return beds


def bed_area(bed):
    if bed["shape"] == "rect":
        return bed["width"] * bed["length"]
    if bed["shape"] == "circle":
        return math.pi * bed["radius"] ** 2
    raise ValueError(f"unknown shape {bed['shape']}")


def litres_needed(bed, rain_mm=0.0):
    """1 mm of rain puts 1 litre on each square metre."""
    area = bed_area(bed)
    need = PLANTS[bed["plant"]]["litres_per_m2"] * area - rain_mm * area
    return max(need, 0.0)


def due_on(bed, day, start):
    every = PLANTS[bed["plant"]]["every_days"]
    return (day - start).days % every == 0


def schedule(beds, start, days=7):
    plan = {}
    for offset in range(days):
        day = start + timedelta(days=offset)
        rain = RAIN_MM.get(day, 0.0)
        jobs = []
        for bed in beds:
            if due_on(bed, day, start):
                litres = litres_needed(bed, rain)
                if litres > 0:
                    jobs.append((bed["name"], round(litres, 1)))
        plan[day] = jobs
    return plan


def cans(litres):
    return math.ceil(litres / CAN_LITRES)


def weekly_summary(plan):
    total = sum(litres for jobs in plan.values() for _, litres in jobs)
    busiest = max(plan, key=lambda d: sum(litres for _, litres in plan[d]))
    return {"litres": round(total, 1), "cans": cans(total), "busiest": busiest}


def format_day(day, jobs):
    if not jobs:
        return f"{day:%a %d %b}: rest"
    parts = ", ".join(f"{name} {litres:g} l" for name, litres in jobs)
    return f"{day:%a %d %b}: {parts}"


beds = load_beds(BEDS_JSON)
assert [b["name"] for b in beds] == ["north", "south", "round", "strip"]
assert abs(bed_area(beds[0]) - 3.6) < 1e-9
assert due_on(beds[3], date(2024, 6, 4), date(2024, 6, 1))

try:
    load_beds('[{"name": "x", "shape": "rect", "width": 1, "length": 1, "plant": "kale"}]')
except ValueError as exc:
    problem = str(exc)
else:
    problem = ""
assert problem == "unknown plant 'kale' in bed x"

plan = schedule(beds, date(2024, 6, 1))
assert len(plan) == 7
assert plan[date(2024, 6, 1)] == [("north", 14.4), ("south", 6.0), ("round", 3.0), ("strip", 5.0)]
assert plan[date(2024, 6, 3)] == []
assert format_day(date(2024, 6, 3), plan[date(2024, 6, 3)]) == "Mon 03 Jun: rest"
assert format_day(date(2024, 6, 4), plan[date(2024, 6, 4)]) == "Tue 04 Jun: south 6 l, strip 5 l"
assert weekly_summary(plan) == {"litres": 94.2, "cans": 10, "busiest": date(2024, 6, 1)}
