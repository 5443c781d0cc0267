FAMILIES = ("name-import", "type-error", "attribute", "none-handling", "index-key", "logic")


def generate(family, seed):
    raise NotImplementedError
