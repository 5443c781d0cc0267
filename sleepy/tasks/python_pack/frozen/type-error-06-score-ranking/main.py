RAW = """alice,82
bob,95
carol,78"""

late_submissions = {"dave": 88, "erin": 91}


def parse_scores(text):
    scores = {}
    for line in text.splitlines():
        name, score = line.split(",")
        scores[name] = score.strip()
    return scores


board = parse_scores(RAW)
board.update(late_submissions)
ranking = sorted(board, key=board.get, reverse=True)

assert ranking[0] == "bob"
assert ranking[-1] == "carol"
assert ranking.index("erin") == 1
