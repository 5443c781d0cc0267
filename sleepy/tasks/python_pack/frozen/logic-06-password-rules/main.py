RULES = [
    ("length", lambda p: len(p) >= 10),
    ("digit", lambda p: any(c.isdigit() for c in p)),
    ("upper", lambda p: any(c.isupper() for c in p)),
    ("symbol", lambda p: any(not c.isalnum() for c in p)),
]


def failed_rules(password):
    failures = []
    for name, check in RULES:
        if not check(password):
            failures.append(name)
        return failures


assert failed_rules("short") == ["length", "digit", "upper", "symbol"]
assert failed_rules("Correct-Horse-7") == []
assert failed_rules("longenough1") == ["upper", "symbol"]
