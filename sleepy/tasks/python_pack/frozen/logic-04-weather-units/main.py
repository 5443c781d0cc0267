from dataclasses import dataclass


@dataclass
class Reading:
    city: str
    fahrenheit: float

    @property
    def celsius(self):
        return round(self.fahrenheit - 32 * 5 / 9, 1)


feed = [Reading("Oslo", 23.0), Reading("Lisbon", 68.0), Reading("Denver", 32.0)]
freezing = [r.city for r in feed if r.celsius <= 0]

assert Reading("X", 212.0).celsius == 100.0
assert [r.celsius for r in feed] == [-5.0, 20.0, 0.0]
assert freezing == ["Oslo", "Denver"]
