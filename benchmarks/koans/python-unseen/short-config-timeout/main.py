# Read a service config; anything left out falls back to the defaults.

DEFAULTS = {"timeout": "30", "retries": "3"}


def load(text):
    conf = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, value = line.split("=", 1)
        conf[key.strip()] = value.strip()
    return conf


def timeout_seconds(conf):
    return int(conf.get("timeout"))


def retries(conf):
    return int(conf.get("retries", DEFAULTS["retries"]))


full = load("timeout = 5\nretries = 1\n")
assert timeout_seconds(full) == 5
assert retries(full) == 1

sparse = load("# only the host is set\nhost = example.org\n")
assert timeout_seconds(sparse) == 30
assert retries(sparse) == 3
print("config ok")
