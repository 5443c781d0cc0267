def rising_windows(readings, k):
    hits = []
    for i in range(len(readings) - k + 1):
        window = readings[i:i + k]
        if all(window[j] < window[j + 1] for j in range(k - 1)):
            hits.append(i)
    return hits


pressure = [3, 4, 6, 5, 7, 8, 9, 2]

assert rising_windows(pressure, 3) == [0, 3, 4]
assert rising_windows(pressure, 4) == [3]
assert rising_windows(pressure, 2) == [0, 1, 3, 4, 5]
