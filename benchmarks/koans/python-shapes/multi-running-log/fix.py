from datetime import date

RUNS = [
    ("2024-04-01", 5.2),
    ("2024-04-02", 3.0),
    ("2024-04-03", 6.5),
    ("2024-04-05", 10.0),
    ("2024-04-06", 4.4),
    ("2024-04-09", 8.1),
]
SEASON_START = date(2024, 4, 1)


def week_number(day):
    return (day - SEASON_START).days // 7 + 1


assert week_number(date(2024, 4, 1)) == 1
assert week_number(date(2024, 4, 9)) == 2


def weekly_distance(runs):
    weeks = {}
    for day_text, km in runs:
        week = week_number(date.fromisoformat(day_text))
        weeks[week] = weeks.get(week, 0) + km
    return weeks


def longest_streak(runs):
    days = sorted(date.fromisoformat(d) for d, _ in runs)
    best = current = 1
    for prev, nxt in zip(days, days[1:]):
        if (nxt - prev).days == 1:
            current += 1
            best = max(best, current)
        else:
            current = 1
    return best


def summary(runs):
    weeks = weekly_distance(runs)
    busiest = max(weeks, key=weeks.get)
    return f"week {busiest}: {weeks[busiest]:.1f} km, streak {longest_streak(runs)} days"


assert round(weekly_distance(RUNS)[2], 1) == 8.1
assert longest_streak(RUNS) == 3
assert summary(RUNS) == "week 1: 29.1 km, streak 3 days"
