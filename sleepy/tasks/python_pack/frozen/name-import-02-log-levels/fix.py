import re

LOG = """\
2024-03-01 12:00:01 [INFO] service started
2024-03-01 12:00:03 [WARN] disk usage at 91%
2024-03-01 12:00:09 [ERROR] upload failed: timeout
2024-03-01 12:01:15 [INFO] retrying upload
2024-03-01 12:01:16 [ERROR] upload failed: timeout
"""

PATTERN = r"^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) \[(\w+)\] (.+)$"


def parse_log(text):
    entries = []
    for line in text.splitlines():
        match = re.match(PATTERN, line)
        if match:
            day, clock, level, message = match.groups()
            entries.append({"time": clock, "level": level, "message": message})
    return entries


entries = parse_log(LOG)
errors = [e for e in entries if e["level"] == "ERROR"]

assert len(entries) == 5
assert len(errors) == 2
assert errors[-1]["time"] == "12:01:16"
