"""Weekly timesheet: shifts in, a printable summary out."""
from datetime import date, datetime, timedelta

SHIFTS = """\
2026-03-02 08:30 12:45
2026-03-02 13:30 17:15
2026-03-03 22:00 06:00
2026-03-05 09:05 17:20
2026-03-09 08:00 12:00
"""

WEEKLY_LIMIT = 20


def parse_shift(line):
    day, start, end = line.split()
    begin = datetime.strptime(f"{day} {start}", "%Y-%m-%d %H:%M")
    finish = datetime.strptime(f"{day} {end}", "%Y-%m-%d %H:%M")
    if finish <= begin:  # overnight shift ends the next morning
        finish += timedelta(days=1)
    return begin, finish


def parse_all(text):
    return [parse_shift(line) for line in text.splitlines() if line.strip()]


def hours(shift):
    begin, finish = shift
    return (finish - begin).total_seconds() / 3600


def week_start(day):
    return day - timedelta(days=day.weekday())


def by_week(shifts):
    weeks = {}
    for shift in shifts:
        monday = week_start(shift[0].date())
        weeks.setdefault(monday, []).append(shift)
    return weeks


def overtime(total, limit=WEEKLY_LIMIT):
    return max(0.0, total - limit)


def fmt_hours(h):
    whole = int(h)
    minutes = round((h - whole) * 60)
    return f"{whole}h{minutes:02d}"


def shift_line(shift):
    begin, finish = shift
    span = f"{begin:%H:%m}-{finish:%H:%M}"
    return f"{begin:%a %d %b}  {span}  {fmt_hours(hours(shift)):>6}"


def report(shifts):
    lines = []
    for monday, week in sorted(by_week(shifts).items()):
        total = sum(hours(s) for s in week)
        lines.append(f"Week of {monday.isoformat()}")
        lines.extend("  " + shift_line(s) for s in week)
        lines.append(f"  total {fmt_hours(total)}, overtime {fmt_hours(overtime(total))}")
    return "\n".join(lines)


shifts = parse_all(SHIFTS)
assert len(shifts) == 5
assert hours(shifts[0]) == 4.25
assert hours(shifts[2]) == 8.0
assert shifts[2][1] == datetime(2026, 3, 4, 6, 0)
assert week_start(date(2026, 3, 5)) == date(2026, 3, 2)
assert sorted(by_week(shifts)) == [date(2026, 3, 2), date(2026, 3, 9)]
assert fmt_hours(24.25) == "24h15"

text = report(shifts)
print(text)
lines = text.splitlines()
assert lines[0] == "Week of 2026-03-02"
assert lines[1] == "  Mon 02 Mar  08:30-12:45    4h15"
assert lines[3] == "  Tue 03 Mar  22:00-06:00    8h00"
assert lines[5] == "  total 24h15, overtime 4h15"
assert lines[-1] == "  total 4h00, overtime 0h00"
