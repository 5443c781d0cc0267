STEP = {"N": (0, 1), "S": (0, -1), "E": (1, 0), "W": (-1, 0)}


def walk(moves):
    pos = [0, 0]
    visits = {}
    for move in moves:
        dx, dy = STEP[move]
        pos = [pos[0] + dx, pos[1] + dy]
        visits[pos] = visits.get(pos, 0) + 1
    return visits


visits = walk("NNESWWNE")
revisited = sorted(cell for cell, n in visits.items() if n > 1)

assert revisited == [(0, 1), (0, 2)]
assert len(visits) == 6
assert sum(visits.values()) == 8
