def median(values):
    ordered = values.sort()
    n = len(ordered)
    mid = n // 2
    if n % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


latencies_ms = [120, 95, 310, 101, 99, 140, 88, 102]

assert median(latencies_ms) == 101.5
assert median([3, 1, 2]) == 2
assert percentile(latencies_ms, 90) == 310
