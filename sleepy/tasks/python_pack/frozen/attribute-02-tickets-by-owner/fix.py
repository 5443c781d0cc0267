tickets = [
    {"id": 101, "owner": "mia", "priority": 2},
    {"id": 102, "owner": "tom", "priority": 1},
    {"id": 103, "owner": "mia", "priority": 1},
    {"id": 104, "owner": "sam", "priority": 3},
    {"id": 105, "owner": "tom", "priority": 1},
]


def group_by_owner(rows):
    groups = {}
    for row in rows:
        groups.setdefault(row["owner"], []).append(row["id"])
    return groups


by_owner = group_by_owner(tickets)
urgent = {owner: sum(1 for t in tickets if t["owner"] == owner and t["priority"] == 1)
          for owner in by_owner}

assert by_owner["mia"] == [101, 103]
assert sorted(by_owner) == ["mia", "sam", "tom"]
assert max(urgent, key=urgent.get) == "tom"
