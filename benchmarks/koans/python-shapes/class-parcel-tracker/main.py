from dataclasses import dataclass, field


@dataclass
class Scan:
    hub: str
    hour: int


@dataclass
class Parcel:
    code: str
    destination: str
    scans: list = field(default_factory=list)

    def scan(self, hub, hour):
        self.scans.append(Scan(hub, hour))

    def last_scan(self):
        return self.scans[-1] if self.scans else None

    def delivered(self):
        last = self.last_scan()
        return last is not None and last.hub == self.destination

    def hours_in_transit(self):
        if len(self.scans) < 2:
            return 0
        return self.scans[-1].hour - self.scans[0].hour


def status_board(parcels):
    rows = []
    for p in sorted(parcels, key=lambda p: p.code):
        where = p.last_scan().hub
        rows.append(f"{p.code} {where}{' (delivered)' if p.delivered() else ''}")
    return rows


a = Parcel("P-102", "Leeds")
a.scan("Bristol", 8)
a.scan("Leeds", 15)
b = Parcel("P-101", "York")
b.scan("Bristol", 9)
c = Parcel("P-103", "Hull")

assert a.delivered() and not b.delivered() and not c.delivered()
assert a.hours_in_transit() == 7 and c.hours_in_transit() == 0
assert status_board([a, b, c]) == ["P-101 Bristol", "P-102 Leeds (delivered)", "P-103 awaiting pickup"]
