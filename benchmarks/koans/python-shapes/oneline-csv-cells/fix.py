def tidy(row): return [cell.strip() for cell in row.split(",")]
assert "|".join(tidy(" a, b ,c ")) == "a|b|c"
