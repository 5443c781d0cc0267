recipe = [("flour", 500), ("water", 350), ("salt", 10), ("yeast", 7)]


def scale(ingredients, factor):
    return {name: round(grams * factor) for name, grams in ingredients}


def hydration(weights):
    return weights["water"] / weights["flour"]


double = scale(recipe, 2)
small = scale(recipe, 0.4)

assert double["flour"] == 1000
assert small == {"flour": 200, "water": 140, "salt": 4, "yeast": 3}
assert hydration(double) == 0.7
