class Sensor:
    def __init__(self, name, offset=None):
        self.name = name
        if offset is not None:
            self.offset = offset
        self.samples = []

    def read(self, raw):
        value = round(raw + self.offset, 2)
        self.samples.append(value)
        return value

    def mean(self):
        return sum(self.samples) / len(self.samples)


porch = Sensor("porch", offset=-0.5)
attic = Sensor("attic")
for raw in (21.0, 22.0, 23.0):
    porch.read(raw)
    attic.read(raw + 5)

assert porch.samples == [20.5, 21.5, 22.5]
assert attic.mean() == 27.0
