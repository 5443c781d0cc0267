stock = {"bolts": 120, "nuts": 300, "washers": 75}

events = [
    ("sale", "bolts", 20),
    ("shipment", "nuts", 100),
    ("shipment", "hinges", 40),
    ("sale", "hinges", 15),
    ("sale", "washers", 75),
]

for kind, sku, qty in events:
    if kind == "shipment":
        stock[sku] += qty
    else:
        stock[sku] -= qty

out_of_stock = [sku for sku, qty in stock.items() if qty == 0]

assert stock["hinges"] == 25
assert stock["nuts"] == 400
assert out_of_stock == ["washers"]
