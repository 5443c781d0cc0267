orders = [(1042, "Ada", 3), (1043, "Grace", 1), (1044, "Linus", 12)]


def shipping_label(order_id, customer, boxes):
    plural = "box" if boxes == 1 else "boxes"
    return "#" + order_id + " " + customer.upper() + f" ({boxes} {plural})"


labels = [shipping_label(*order) for order in orders]

assert labels[0] == "#1042 ADA (3 boxes)"
assert labels[1].endswith("(1 box)")
assert len(labels) == 3
