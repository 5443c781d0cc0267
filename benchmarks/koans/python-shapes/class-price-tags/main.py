from dataclasses import dataclass


@dataclass(frozen=True)
class PriceTag:
    sku: str
    label: str
    cents: int

    def display(self):
        return f"{self.label}: {self.cents // 100}.{self.cents % 100:02d}"


def apply_markdown(tags, percent):
    for tag in tags:
        tag.cents = tag.cents * (100 - percent) // 100
    return tags


shelf = [PriceTag("A1", "Mug", 899), PriceTag("B7", "Teapot", 2450)]
assert len({shelf[0], PriceTag("A1", "Mug", 899)}) == 1
assert shelf[1].display() == "Teapot: 24.50"

sale = apply_markdown(shelf, 20)
assert [t.display() for t in sale] == ["Mug: 7.19", "Teapot: 19.60"]
assert shelf[0].cents == 899
