def letter(score):
    if score >= 90:
        return "A"
    elif score >= 80:
        return "B"
    elif score >= 70:
        return "C"
    elif score >= 60:
        return "D"
    return "F"


scores = {"ana": 93, "ben": 71, "cy": 58, "dee": 84, "eli": 60}
report = "".join(letter(s) for s in scores.values())
failing = [name for name, s in scores.items() if letter(s) == "F"]

assert report == "ACFBD"
assert failing == ["cy"]
