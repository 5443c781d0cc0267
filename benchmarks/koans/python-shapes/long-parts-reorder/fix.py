"""Reorder planner for a small bike workshop's spare parts."""

STOCK_CSV = """sku,name,qty,reorder_at,pack_size,unit_price
BR-01,brake pads,4,10,12,3.50
CH-09,chain 9-speed,7,5,4,18.00
TU-26,inner tube 26in,2,8,10,4.25
CA-02,brake cable,15,6,25,1.10
SP-44,spoke nipple,120,200,100,0.08
"""

SUPPLIERS = {
    "BR": "StopWell",
    "CH": "LinkCo",
    "TU": "AirRide",
    "CA": "StopWell",
    "SP": "WheelPro",
}


def parse_stock(text):
    lines = [line for line in text.strip().splitlines() if line]
    header = lines[0].split(",")
    parts = []
    for line in lines[1:]:
        row = dict(zip(header, line.split(",")))
        row["qty"] = int(row["qty"])
        row["reorder_at"] = int(row["reorder_at"])
        row["pack_size"] = int(row["pack_size"])
        row["unit_price"] = float(row["unit_price"])
        parts.append(row)
    return parts


def supplier_for(sku):
    prefix = sku.split("-")[0]
    return SUPPLIERS.get(prefix, "unknown")


def needs_reorder(part):
    return part["qty"] < part["reorder_at"]


def packs_to_order(part, target_cover=2):
    """Packs needed to bring stock up to target_cover times the reorder level."""
    wanted = part["reorder_at"] * target_cover - part["qty"]
    if wanted <= 0:
        return 0
    packs = wanted // part["pack_size"]
    if wanted % part["pack_size"]:
        packs += 1
    return packs


def build_orders(parts):
    orders = {}
    for part in parts:
        if not needs_reorder(part):
            continue
        packs = packs_to_order(part)
        if packs == 0:
            continue
        line = {
            "sku": part["sku"],
            "packs": packs,
            "units": packs * part["pack_size"],
            "cost": round(packs * part["pack_size"] * part["unit_price"], 2),
        }
        orders.setdefault(supplier_for(part["sku"]), []).append(line)
    return orders


def order_totals(orders):
    return {supplier: round(sum(l["cost"] for l in lines), 2) for supplier, lines in orders.items()}


def format_order(supplier, lines):
    out = [f"To: {supplier}"]
    for l in sorted(lines, key=lambda l: l["sku"]):
        out.append(f"  {l['sku']:<6} x{l['packs']:>3} packs ({l['units']} units)  {l['cost']:>8.2f}")
    out.append(f"  {'total':<6} {sum(l['cost'] for l in lines):>25.2f}")
    return "\n".join(out)


def stock_value(parts):
    return round(sum(p["qty"] * p["unit_price"] for p in parts), 2)


def low_stock_names(parts):
    return sorted(p["name"] for p in parts if needs_reorder(p))


parts = parse_stock(STOCK_CSV)
assert len(parts) == 5
assert parts[2]["name"] == "inner tube 26in"
assert supplier_for("CA-02") == "StopWell"
assert supplier_for("XX-00") == "unknown"

orders = build_orders(parts)
assert sorted(orders) == ["AirRide", "StopWell", "WheelPro"]
assert orders["WheelPro"][0]["packs"] == 3
assert order_totals(orders) == {"StopWell": 84.0, "AirRide": 85.0, "WheelPro": 24.0}

text = format_order("StopWell", orders["StopWell"])
assert text.splitlines()[0] == "To: StopWell"
assert "x  2 packs (24 units)" in text
assert low_stock_names(parts) == ["brake pads", "inner tube 26in", "spoke nipple"]
assert stock_value(parts) == 174.6
