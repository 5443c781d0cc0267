"""League table for a five-a-side football season."""

RESULTS = """
Otters 3-1 Herons
Badgers 2-2 Otters
Herons 0-1 Foxes
Foxes 4-2 Badgers
Otters 1-0 Foxes
Herons 2-2 Badgers
"""

POINTS_WIN = 3
POINTS_DRAW = 1


def parse_result(line):
    home_part, away_part = line.split("-")
    home, home_goals = home_part.rsplit(" ", 1)
    away_goals, away = away_part.split(" ", 1)
    return home, int(home_goals), away, int(away_goals)


def matches(text):
    return [parse_result(line.strip()) for line in text.strip().splitlines() if line.strip()]


def empty_row():
    return {"played": 0, "won": 0, "drawn": 0, "lost": 0, "for": 0, "against": 0, "points": 0}


def record(table, team, scored, conceded):
    row = table.setdefault(team, empty_row())
    row["played"] += 1
    row["for"] += scored
    row["against"] += conceded
    if scored > conceded:
        row["won"] += 1
        row["points"] += POINTS_WIN
    elif scored == conceded:
        row["drawn"] += 1
        row["points"] += POINTS_DRAW
    else:
        row["lost"] += 1


def build_table(text):
    table = {}
    for home, hg, away, ag in matches(text):
        record(table, home, hg, ag)
        record(table, away, ag, hg)
    return table


def goal_difference(row):
    return row["for"] - row["against"]


def form(text, team, last=3):
    marks = []
    for home, hg, away, ag in matches(text):
        if team not in (home, away):
            continue
        mine, theirs = (hg, ag) if team == home else (ag, hg)
        marks.append("W" if mine > theirs else "D" if mine == theirs else "L")
    return "".join(marks[-last:])


def biggest_win(text):
    best = None
    for home, hg, away, ag in matches(text):
        margin = abs(hg - ag)
        if margin and (best is None or margin > best[0]):
            winner = home if hg > ag else away
            best = (margin, winner, f"{home} {hg}-{ag} {away}")
    return best


def standings(table):
    def sort_key(item):
        team, row = item
        return (-row["points"], -goal_difference(row), -row["for"], team)
    return [team for team, row in sorted(table.items(), key=sort_key)]


def render(table):
    lines = [f"{'Team':<10}{'P':>3}{'W':>3}{'D':>3}{'L':>3}{'GD':>5}{'Pts':>5}"]
    for team in standings(table):
        row = table[team]
        lines.append(f"{team:<10}{row['played']:>3}{row['won']:>3}{row['drawn']:>3}"
                     f"{row['lost']:>3}{goal_difference(row):>+5}{row['points']:>5}")
    return "\n".join(lines)


def relegated(table, places=1):
    return standings(table)[-places:]


table = build_table(RESULTS)
assert len(matches(RESULTS)) == 6
assert table["Otters"]["points"] == 7
assert table["Badgers"]["drawn"] == 2
assert goal_difference(table["Herons"]) == -3
assert form(RESULTS, "Otters") == "WDW"
assert form(RESULTS, "Foxes", last=2) == "WL"
assert biggest_win(RESULTS) == (2, "Otters", "Otters 3-1 Herons")

assert standings(table) == ["Otters", "Foxes", "Badgers", "Herons"]
assert relegated(table) == ["Herons"]
board = render(table).splitlines()
assert board[1].startswith("Otters")
assert board[1].endswith("+3    7")
assert len(board) == 5
