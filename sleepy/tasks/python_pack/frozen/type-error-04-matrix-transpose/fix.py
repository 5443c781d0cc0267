class Matrix:
    def __init__(self, rows):
        self.rows = rows

    @property
    def shape(self):
        return len(self.rows), len(self.rows[0])

    def transpose(self):
        n_rows, n_cols = self.shape
        return Matrix([[self.rows[r][c] for r in range(n_rows)] for c in range(n_cols)])

    def __matmul__(self, other):
        cols = other.transpose().rows
        return Matrix([[sum(a * b for a, b in zip(row, col)) for col in cols] for row in self.rows])


a = Matrix([[1, 2, 3], [4, 5, 6]])
b = a.transpose()
product = a @ b

assert b.shape == (3, 2)
assert b.rows[2] == [3, 6]
assert product.rows == [[14, 32], [32, 77]]
