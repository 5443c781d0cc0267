TIMETABLE = """
Aachen 08:00 08:02
Koeln 08:35 08:41
Duesseldorf 09:00 09:05
Duisburg 09:14 09:20
Essen 09:25 09:33
"""


def to_minutes(hhmm):
	hours, minutes = hhmm.split(":")
	return int(hours) * 60 + int(minutes)


def load(timetable):
	stops = []
	for line in timetable.strip().splitlines():
		name, sched, actual = line.split()
		stops.append((name, to_minutes(sched), to_minutes(actual)))
	return stops


def delays_between(stops):
	"""Minutes lost between consecutive stops (actual gap minus scheduled gap)."""
	lost = []
	for i in range(len(stops) - 1):
		name, sched, actual = stops[i]
		_, next_sched, next_actual = stops[i + 1]
		lost.append((name, (next_actual - actual) - (next_sched - sched)))
	return lost


stops = load(TIMETABLE)
assert stops[0] == ("Aachen", 480, 482)
legs = delays_between(stops)
assert legs == [("Aachen", 4), ("Koeln", -1), ("Duesseldorf", 1), ("Duisburg", 2)]
assert max(legs, key=lambda leg: leg[1]) == ("Aachen", 4)
assert sum(l for _, l in legs) + (stops[0][2] - stops[0][1]) == stops[-1][2] - stops[-1][1]
