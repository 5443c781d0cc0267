from dataclasses import dataclass, field


@dataclass
class Thermostat:
    room: str
    target: float = 20.0
    hysteresis: float = 0.5
    heating: bool = False
    log: list = field(default_factory=list)

    def read(self, temperature):
        if temperature < self.target - self.hysteresis:
            self.heating = True
        elif temperature > self.target_temp + self.hysteresis:
            self.heating = False
        self.log.append((temperature, self.heating))
        return self.heating

    def set_target(self, value):
        if not 5 <= value <= 30:
            raise ValueError(f"target {value} out of range")
        self.target = value

    def on_ratio(self):
        if not self.log:
            return 0.0
        return sum(1 for _, on in self.log if on) / len(self.log)


hall = Thermostat("hall")
states = [hall.read(t) for t in (18.0, 19.8, 20.7, 20.2, 19.4)]
assert states == [True, True, False, False, True]
assert hall.on_ratio() == 0.6

hall.set_target(22)
assert hall.read(21.0) is True
try:
    hall.set_target(35)
except ValueError:
    pass
else:
    raise AssertionError("35 degrees accepted")
assert hall.target == 22
assert Thermostat("attic").on_ratio() == 0.0
