DEFAULTS = {"host": "localhost", "port": 8080, "debug": False}


def merge_config(overrides):
    config = dict(DEFAULTS)
    for key, value in overrides.items():
        if key not in DEFAULTS:
            raise KeyError(key)
        config[key] = value
    return config


cfg = merge_config({"port": 9000, "debug": True})

assert cfg["port"] == 9000
assert cfg["host"] == "localhost"
assert DEFAULTS["port"] == 8080
