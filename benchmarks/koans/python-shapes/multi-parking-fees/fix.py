from datetime import datetime

RATES = {"car": 2.5, "van": 4.0, "motorbike": 1.0}
DAILY_CAP = {"car": 18.0, "van": 30.0, "motorbike": 8.0}


def hours_parked(arrived, left):
    seconds = (left - arrived).total_seconds()
    hours = int(seconds // 3600)
    if seconds % 3600:
        hours += 1
    return hours


def parse_ticket(line):
    plate, vehicle, arrived, left = line.split(";")
    fmt = "%Y-%m-%d %H:%M"
    return plate, vehicle, datetime.strptime(arrived, fmt), datetime.strptime(left, fmt)


def fee(vehicle, arrived, left):
    hours = hours_parked(arrived, left)
    cost = min(hours * RATES[vehicle], DAILY_CAP[vehicle])
    return cost


def daily_takings(lines):
    total = 0
    for line in lines:
        plate, vehicle, arrived, left = parse_ticket(line)
        total += fee(vehicle, arrived, left)
    return total


TICKETS = [
    "KX21 ABC;car;2024-05-02 08:10;2024-05-02 10:05",
    "LM70 VAN;van;2024-05-02 07:00;2024-05-02 17:30",
    "BK19 MOT;motorbike;2024-05-02 12:00;2024-05-02 12:45",
]

assert hours_parked(datetime(2024, 5, 2, 9, 0), datetime(2024, 5, 2, 11, 0)) == 2
assert hours_parked(datetime(2024, 5, 2, 9, 0), datetime(2024, 5, 2, 11, 1)) == 3
assert daily_takings(TICKETS) == 36.0
assert daily_takings(TICKETS[:1]) == 5.0
