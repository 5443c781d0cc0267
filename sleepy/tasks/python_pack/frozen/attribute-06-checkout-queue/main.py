from collections import deque


def simulate(arrivals, service_time):
    queue = []
    for t in sorted(arrivals):
        queue.append(t)
    clock = 0
    waits = []
    while queue:
        arrived = queue.popleft()
        start = max(clock, arrived)
        waits.append(start - arrived)
        clock = start + service_time
    return waits


waits = simulate([0, 1, 2, 10, 11], service_time=3)

assert waits == [0, 2, 4, 0, 2]
assert max(waits) == 4
assert sum(waits) / len(waits) == 1.6
