# Total an invoice that arrives as CSV text: description, quantity, unit price.
INVOICE = """\
description,quantity,unit_price
notebook,3,2.50
pen,10,0.80
stapler,1,7.25
"""


def line_items(text):
    return text.strip().splitlines()[1:]


def invoice_total(text):
    total = 0
    for line in line_items(text):
        name, qty, price = line.split(",")
        total += int(qty) * price
    return round(total, 2)


assert len(line_items(INVOICE)) == 3
assert invoice_total(INVOICE) == 22.75
assert invoice_total("description,quantity,unit_price\n") == 0
print("invoice ok")
