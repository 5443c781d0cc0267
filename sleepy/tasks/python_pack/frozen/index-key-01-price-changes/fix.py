closing = [101.5, 103.0, 102.25, 106.0, 105.5, 108.75]


def daily_changes(prices):
    return [round(prices[i + 1] - prices[i], 2) for i in range(len(prices) - 1)]


changes = daily_changes(closing)
best_day = changes.index(max(changes)) + 1

assert changes == [1.5, -0.75, 3.75, -0.5, 3.25]
assert best_day == 3
assert round(sum(changes), 2) == round(closing[-1] - closing[0], 2)
