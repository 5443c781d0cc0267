import re


def parse_version(tag):
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", tag)
    return tuple(int(part) for part in m.groups())


tags = ["1.4.2", "v2.0.0", "1.10.0", "v1.9.7"]
latest = max(tags, key=parse_version)

assert latest == "v2.0.0"
assert sorted(tags, key=parse_version) == ["1.4.2", "v1.9.7", "1.10.0", "v2.0.0"]
assert parse_version("release-3.2.1") == (3, 2, 1)
