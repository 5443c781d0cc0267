from datetime import date, timedelta

# Reminder settings come from a small key=value text block.
SETTINGS = """\
remind_days=3
repeat=2
"""


def parse_settings(text):
    return dict(line.split("=", 1) for line in text.splitlines() if line)


def reminder_dates(due, settings):
    days = int(settings["remind_days"])
    first = due - timedelta(days=days)
    return [first + timedelta(days=i) for i in range(int(settings["repeat"]))]


settings = parse_settings(SETTINGS)
dates = reminder_dates(date(2026, 3, 2), settings)
print(dates)
assert dates[0] == date(2026, 2, 27)
assert dates == [date(2026, 2, 27), date(2026, 2, 28)]
