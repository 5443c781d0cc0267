def tidy(row): return [cell.strip() for cell in row.split(",")]
assert tidy(" a, b ,c ").join("|") == "a|b|c"
