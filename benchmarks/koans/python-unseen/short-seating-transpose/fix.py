# A seating plan is stored row by row; the usher wants it column by column.

PLAN = [
    ["Ann", "Ben", "Cal"],
    ["Dee", "Eli", "Fay"],
]


def transpose(grid):
    rows = len(grid)
    cols = len(grid[0])
    return [[grid[r][c] for r in range(rows)] for c in range(cols)]


columns = transpose(PLAN)
print(columns)
assert columns[0] == ["Ann", "Dee"]
assert len(columns) == 3
assert columns[2] == ["Cal", "Fay"]
assert transpose(columns) == PLAN
