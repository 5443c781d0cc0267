# Daily summary lines for a thermostat that logs one reading per hour.
READINGS = "21.5 22.0 19.75 23.25 20.0"


def parse(text):
    return [float(x) for x in text.split()]


def label(name, value):
    return name + ": " + str(value) + " C"


def summary(readings):
    lines = [label("max", max(readings)), label("min", min(readings))]
    ordered = sorted(readings)
    middle = ordered[len(ordered) // 2]
    lines.append(label("median", middle))
    return lines


readings = parse(READINGS)
lines = summary(readings)
print(lines)
assert lines[0] == "max: 23.25 C"
assert lines[1] == "min: 19.75 C"
assert lines[2] == "median: 21.5 C"
assert readings == [21.5, 22.0, 19.75, 23.25, 20.0]
