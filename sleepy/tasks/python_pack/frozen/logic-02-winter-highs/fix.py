def warmest(temps_by_day):
    best_day, best = None, float("-inf")
    for day, temp in temps_by_day.items():
        if temp > best:
            best_day, best = day, temp
    return best_day, best


january = {"mon": -7.5, "tue": -3.0, "wed": -11.2, "thu": -0.5, "fri": -4.8}
spring = {"mon": 12.0, "tue": 15.5, "wed": 9.0}

assert warmest(spring) == ("tue", 15.5)
assert warmest(january) == ("thu", -0.5)
