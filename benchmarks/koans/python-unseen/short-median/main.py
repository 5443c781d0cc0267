# Summary statistics for page response times (milliseconds).


def median(values):
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2 == 0:
        return (ordered[mid] + ordered[mid + 1]) / 2
    return ordered[mid]


def summary(times):
    return {
        "count": len(times),
        "min": min(times),
        "max": max(times),
        "median": median(times),
    }


odd = summary([120, 85, 240, 95, 110])
assert odd["median"] == 110
assert odd["max"] == 240

even = summary([300, 100, 400, 200])
print(even)
assert even["median"] == 250
assert median([7, 3]) == 5
