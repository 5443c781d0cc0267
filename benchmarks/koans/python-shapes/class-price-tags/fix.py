from dataclasses import dataclass, replace


@dataclass(frozen=True)
class PriceTag:
    sku: str
    label: str
    cents: int

    def display(self):
        return f"{self.label}: {self.cents // 100}.{self.cents % 100:02d}"


def apply_markdown(tags, percent):
    return [replace(tag, cents=tag.cents * (100 - percent) // 100) for tag in tags]


shelf = [PriceTag("A1", "Mug", 899), PriceTag("B7", "Teapot", 2450)]
assert len({shelf[0], PriceTag("A1", "Mug", 899)}) == 1
assert shelf[1].display() == "Teapot: 24.50"

sale = apply_markdown(shelf, 20)
assert [t.display() for t in sale] == ["Mug: 7.19", "Teapot: 19.60"]
assert shelf[0].cents == 899
