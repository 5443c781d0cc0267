# Build one pricing function per customer tier.

RATES = {"regular": 0.0, "member": 0.10, "staff": 0.25}


def make_pricers(rates):
    pricers = {}
    for tier, rate in rates.items():
        pricers[tier] = lambda price: round(price * (1 - rate), 2)
    return pricers


pricers = make_pricers(RATES)
print({tier: f(80.0) for tier, f in pricers.items()})
assert pricers["staff"](80.0) == 60.0
assert pricers["member"](80.0) == 72.0
assert pricers["regular"](19.99) == 19.99
