DISCOUNTS = {"WELCOME10": 0.10, "SPRING25": 0.25, "STAFF": 0.40}


def checkout(prices, code=""):
    subtotal = sum(prices)
    rate = DISCOUNTS.get(code.upper(), 0.0)
    total = subtotal * (1 - rate)
    return round(total, 2)


basket = [19.99, 5.01, 25.00]

assert checkout(basket, "spring25") == 37.5
assert checkout(basket, "staff") == 30.0
assert checkout(basket) == 50.0
assert checkout(basket, "EXPIRED") == 50.0
