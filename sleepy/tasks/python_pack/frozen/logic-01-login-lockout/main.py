MAX_FAILURES = 3


class LoginGuard:
    def __init__(self):
        self.failures = {}

    def attempt(self, user, ok):
        if self.is_locked(user):
            return "locked"
        if ok:
            self.failures[user] = 0
            return "welcome"
        self.failures[user] = self.failures.get(user, 0) + 1
        return "denied"

    def is_locked(self, user):
        return self.failures.get(user, 0) > MAX_FAILURES


guard = LoginGuard()
results = [guard.attempt("kim", ok) for ok in (False, False, False, True)]

assert results == ["denied", "denied", "denied", "locked"]
assert guard.attempt("lee", True) == "welcome"
assert not guard.is_locked("lee")
