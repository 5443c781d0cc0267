from dataclasses import dataclass


@dataclass
class LineItem:
    sku: str
    unit_price: float
    quantity: int


def invoice_total(items, tax_rate):
    subtotal = 0.0
    for item in items:
        subtotal += item.unit_price * item.quantity
    tax = round(subtotal * tax_rate, 2)
    return {"subtotal": round(subtotal, 2), "tax": tax, "total": round(subtotal + tax, 2)}


cart = [LineItem("PEN-01", 1.25, 4), LineItem("PAD-A4", 3.50, 2), LineItem("INK-BK", 12.00, 1)]
summary = invoice_total(cart, 0.08)

assert summary["subtotal"] == 24.0
assert summary["tax"] == 1.92
assert summary["total"] == 25.92
