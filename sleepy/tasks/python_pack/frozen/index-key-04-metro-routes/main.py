from collections import deque

LINKS = [("Harbor", "Market"), ("Market", "Museum"), ("Museum", "Park"),
         ("Market", "Station"), ("Station", "Park"), ("Park", "Zoo")]


def build_graph(links):
    graph = {}
    for a, b in links:
        graph[a].append(b)
        graph[b].append(a)
    return graph


def fewest_stops(graph, start, goal):
    seen, frontier = {start}, deque([(start, [start])])
    while frontier:
        node, path = frontier.popleft()
        if node == goal:
            return path
        for nxt in graph[node]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append((nxt, path + [nxt]))


graph = build_graph(LINKS)

assert fewest_stops(graph, "Harbor", "Zoo") == ["Harbor", "Market", "Museum", "Park", "Zoo"]
assert sorted(graph["Park"]) == ["Museum", "Station", "Zoo"]
