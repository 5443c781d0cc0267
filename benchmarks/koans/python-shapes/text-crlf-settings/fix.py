"""Reads a tiny INI-style settings text into sections and typed values."""

SETTINGS = """
[server]
host = 0.0.0.0
port = 8080
debug = false

# cache settings
[cache]
size_mb = 256
ttl_seconds = 300
"""


def parse_value(raw):
    if raw in ("true", "false"):
        return raw == "true"
    if raw.isdigit():
        return int(raw)
    return raw


def parse_settings(text):
    sections = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1]
            sections[current] = {}
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        sections[current][key] = parse_value(value)
    return sections


def address(settings):
    server = settings["server"]
    return server["host"] + ":" + str(server["port"])


def cache_bytes(settings):
    return settings["cache"]["size_mb"] * 1024 * 1024


cfg = parse_settings(SETTINGS)
assert cfg["server"]["debug"] is False
assert cfg["cache"] == {"size_mb": 256, "ttl_seconds": 300}
assert cache_bytes(cfg) == 268435456
assert address(cfg) == "0.0.0.0:8080"
