"""Scale recipes for a community kitchen and build one shopping list."""
import math

RECIPES = {
    "pancakes": {
        "serves": 4,
        "items": {"flour g": 200, "milk ml": 300, "egg": 2, "sugar g": 25},
    },
    "omelette": {
        "serves": 2,
        "items": {"egg": 4, "milk ml": 50, "butter g": 15},
    },
    "scones": {
        "serves": 8,
        "items": {"flour g": 350, "butter g": 85, "sugar g": 40, "milk ml": 175},
    },
}

PANTRY = {"flour g": 500, "egg": 6, "milk ml": 1000, "salt g": 100}

# Things that can only be bought whole.
WHOLE = {"egg"}


def scale(recipe, people):
    factor = people / recipe["serves"]
    return {name: qty * factor for name, qty in recipe["items"].iteritems()}


def tidy(amounts):
    return {
        name: math.ceil(qty) if name in WHOLE else round(qty)
        for name, qty in amounts.items()
    }


def combine(*lists):
    total = {}
    for amounts in lists:
        for name, qty in amounts.items():
            total[name] = total.get(name, 0) + qty
    return total


def shopping_list(needed, pantry):
    short = {name: qty - pantry.get(name, 0) for name, qty in needed.items()}
    return {name: qty for name, qty in short.items() if qty > 0}


def ingredients(recipes):
    return {name for recipe in recipes.values() for name in recipe["items"]}


def unused_in_pantry(recipes, pantry):
    return set(pantry) - ingredients(recipes)


def format_list(items):
    width = max(len(name) for name in items)
    return [f"{name:<{width}}  {qty:>5}" for name, qty in sorted(items.items())]


menu = {"pancakes": 30, "omelette": 5, "scones": 20}
plans = {dish: tidy(scale(RECIPES[dish], people)) for dish, people in menu.items()}

assert plans["pancakes"]["flour g"] == 1500
assert plans["pancakes"]["egg"] == 15
assert plans["omelette"]["egg"] == 10
assert plans["scones"]["butter g"] == 212

needed = combine(*plans.values())
assert needed["egg"] == 25
assert needed["milk ml"] == 2250 + 125 + 438

to_buy = shopping_list(needed, PANTRY)
assert "salt g" not in to_buy
assert to_buy["egg"] == 19
assert to_buy["flour g"] == 1875

assert ingredients(RECIPES) == {"flour g", "milk ml", "egg", "sugar g", "butter g"}
assert unused_in_pantry(RECIPES, PANTRY) == {"salt g"}

lines = format_list(to_buy)
print("\n".join(lines))
assert lines[0] == "butter g    250"
assert lines[-1] == "sugar g     288"
