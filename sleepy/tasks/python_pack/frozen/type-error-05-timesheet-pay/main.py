from dataclasses import dataclass, field


@dataclass
class Timesheet:
    employee: str
    hours: list = field(default_factory=list)
    rate: float = 20.0

    @property
    def total_hours(self):
        return sum(self.hours)

    def pay(self):
        regular = min(self.total_hours(), 40)
        overtime = max(self.total_hours - 40, 0)
        return regular * self.rate + overtime * self.rate * 1.5


week = Timesheet("Ravi", [8.5, 9.0, 8.0, 10.0, 8.5], rate=24.0)
part_time = Timesheet("Lena", [4.0, 4.0, 6.0])

assert week.total_hours == 44.0
assert week.pay() == 40 * 24.0 + 4 * 36.0
assert part_time.pay() == 280.0
