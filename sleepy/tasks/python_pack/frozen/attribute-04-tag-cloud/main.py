posts = {
    "intro-to-sql": "Databases, SQL ,beginners",
    "indexing-deep-dive": "sql, Performance, databases",
    "css-grid": "CSS, frontend, Beginners",
}


def normalise_tags(raw):
    tags = raw.split(",")
    return sorted(set(tags.strip().lower()))


cloud = {}
for slug, raw in posts.items():
    for tag in normalise_tags(raw):
        cloud[tag] = cloud.get(tag, 0) + 1

assert normalise_tags(posts["css-grid"]) == ["beginners", "css", "frontend"]
assert cloud["sql"] == 2 and cloud["databases"] == 2
assert len(cloud) == 6
