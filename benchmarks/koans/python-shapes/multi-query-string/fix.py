from urllib.parse import quote_plus, unquote_plus


def parse_query(query):
    params = {}
    for pair in query.lstrip("?").split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        params.setdefault(unquote_plus(key), []).append(unquote_plus(value))
    return params


def first(params, key, default=None):
    values = params.get(key)
    return values[0] if values else default


def page_window(params, per_page=20):
    page = int(first(params, "page", "1"))
    start = (page - 1) * per_page
    return start, start + per_page


def build_query(params):
    parts = []
    for key in sorted(params):
        for value in params[key]:
            parts.append(f"{key}={quote_plus(value)}")
    return "?" + "&".join(parts)


params = parse_query("?q=blue+shoes&size=42&size=43&page=3&")
assert params["q"] == ["blue shoes"]
assert first(params, "size") == "42"
assert first(params, "colour", "any") == "any"
assert page_window(params) == (40, 60)
assert page_window(parse_query("q=x")) == (0, 20)
assert build_query({"q": ["blue shoes"], "page": ["2"]}) == "?page=2&q=blue+shoes"
