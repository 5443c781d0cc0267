from collections import defaultdict


class TodoList:
    def __init__(self, owner, items=None):
        self.owner = owner
        self.items = items if items is not None else []

    def add(self, title, *tags):
        self.items.append({"title": title, "tags": set(tags), "done": False})

    def complete(self, title):
        for item in self.items:
            if item["title"] == title:
                item["done"] = True
                return True
        return False

    def by_tag(self):
        groups = defaultdict(list)
        for item in self.items:
            if not item["done"]:
                for tag in sorted(item["tags"]):
                    groups[tag].append(item["title"])
        return dict(groups)


home = TodoList("mia")
home.add("fix tap", "house", "urgent")
home.add("call gran", "family")
home.add("paint fence", "house")
assert home.complete("fix tap")
assert not home.complete("walk dog")

work = TodoList("mia")
work.add("send invoice", "money", "urgent")

assert home.by_tag() == {"house": ["paint fence"], "family": ["call gran"]}
assert len(work.items) == 1
assert work.by_tag() == {"money": ["send invoice"], "urgent": ["send invoice"]}
