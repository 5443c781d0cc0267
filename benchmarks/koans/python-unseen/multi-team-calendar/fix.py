from datetime import date, timedelta

# A tiny team calendar: events per day, and working days left until a deadline.
EVENTS = [
    ("2026-05-04", "standup"),
    ("2026-05-04", "1:1 with Sam"),
    ("2026-05-08", "demo"),
    ("2026-05-09", "team hike"),
]


def build(events):
    calendar = {}
    for day_text, title in events:
        day = date.fromisoformat(day_text)
        titles = calendar.get(day, [])
        titles.append(title)
        calendar[day] = titles
    return calendar


def working_days(start, end):
    """Weekdays from start up to, but not including, end."""
    count = 0
    day = start
    while day < end:
        if day.weekday() < 5:
            count += 1
        day += timedelta(days=1)
    return count


cal = build(EVENTS)
assert cal[date(2026, 5, 4)] == ["standup", "1:1 with Sam"]
assert len(cal) == 3
assert working_days(date(2026, 5, 4), date(2026, 5, 8)) == 4
assert working_days(date(2026, 5, 4), date(2026, 5, 18)) == 10
assert working_days(date(2026, 5, 9), date(2026, 5, 11)) == 0
print("calendar ok")
