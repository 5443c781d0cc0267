"""Summarise a web server log with a pipeline of generators."""
from collections import namedtuple

Record = namedtuple("Record", "time level path status millis")

LOG = """\
09:00:01 INFO /index.html 200 12
09:00:02 INFO /about.html 200 8
09:00:05 WARN /search?q=cats 200 950
09:00:07 ERROR /api/orders 500 31
09:00:09 INFO /index.html 200 10
# rotated by logrotate
09:00:11 ERROR /api/orders 502 3001
09:00:12 INFO /favicon.ico 404 2
09:00:15 WARN /search?q=dogs 200 1200
"""


def read_lines(text):
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def parse(lines):
    for line in lines:
        time, level, path, status, millis = line.split()
        yield Record(time, level, path, int(status), int(millis))


def with_level(records, level):
    return (r for r in records if r.level == level)


def slow(records, limit_ms):
    for r in records:
        if r.millis > limit_ms:
            yield r


def endpoint(path):
    return path.split("?", 1)[0]


def hits_per_endpoint(records):
    hits = {}
    for r in records:
        key = endpoint(r.path)
        hits[key] = hits.get(key, 0) + 1
    return hits


def percentile(values, pct):
    ordered = sorted(values)
    k = round(pct / 100 * (len(ordered) - 1))
    return ordered[k]


def summarise(text):
    records = list(parse(read_lines(text)))
    summary = {
        "requests": len(records),
        "errors": len(list(with_level(records, "ERROR"))),
        "warnings": sum(1 for _ in with_level(records, "WARN")),
        "slow": [endpoint(r.path) for r in slow(records, 900)],
        "p50": percentile([r.millis for r in records], 50),
        "not_found": [r.path for r in records if r.status == 404],
    }
    return summary


def report(summary):
    lines = [f"{summary['requests']} requests, {summary['errors']} errors"]
    for path in sorted(set(summary["slow"])):
        lines.append(f"  slow: {path}")
    return "\n".join(lines)


summary = summarise(LOG)
assert summary["requests"] == 8
assert summary["errors"] == 2
assert summary["warnings"] == 2
assert summary["slow"] == ["/search", "/api/orders", "/search"]
assert summary["p50"] == 31
assert summary["not_found"] == ["/favicon.ico"]

hits = hits_per_endpoint(parse(read_lines(LOG)))
assert hits["/index.html"] == 2
assert hits["/search"] == 2

text = report(summary)
print(text)
assert text.splitlines()[0] == "8 requests, 2 errors"
assert text.splitlines()[1:] == ["  slow: /api/orders", "  slow: /search"]
