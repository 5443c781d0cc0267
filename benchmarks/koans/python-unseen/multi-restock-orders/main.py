from dataclasses import dataclass

# Weekly restock orders for an office supply cupboard.


@dataclass
class Item:
    sku: str
    name: str
    reorder_at: int
    batch: int


CATALOG = [
    Item("A-100", "paper towels", 10, 24),
    Item("B-220", "hand soap", 5, 12),
    Item("C-310", "bin bags", 8, 50),
    Item("D-400", "coffee", 3, 6),
]

# Shelf counts from Monday; anything not counted is out of stock.
LEVELS = {"A-100": 4, "C-310": 20, "D-400": 3}


def needs_restock(item, levels):
    return levels[item.sku] <= item.reorder_at


def order_lines(catalog, levels):
    due = [item for item in catalog if needs_restock(item, levels)]
    return ["Order " + item.batch + " x " + item.name for item in due]


lines = order_lines(CATALOG, LEVELS)
print("\n".join(lines))
assert len(lines) == 3
assert lines[0] == "Order 24 x paper towels"
assert lines[1] == "Order 12 x hand soap"
assert lines[2] == "Order 6 x coffee"
assert order_lines(CATALOG[2:3], LEVELS) == []
