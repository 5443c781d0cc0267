"""Meeting-room booking for a small office: rooms, bookings and a smallest-free-room search."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

DAY_START = 8
DAY_END = 18


@dataclass
class Room:
    name: str
    seats: int
    has_screen: bool = False
    bookings: list = field(default_factory=list)

    def is_free(self, start, end):
        return all(end <= b_start or start >= b_end for b_start, b_end, _ in self.bookings)

    def book(self, start, end, who):
        if not self.is_free(start, end):
            raise ValueError(f"{self.name} is already booked then")
        self.bookings.append((start, end, who))
        self.bookings.sort()

    def booked_minutes(self, day):
        total = 0
        for b_start, b_end, _ in self.bookings:
            if b_start.date() == day:
                total += int((b_end - b_start).total_seconds() // 60)
        return total


class Office:
    def __init__(self, rooms):
        self.rooms = {room.name: room for room in rooms}

    def within_hours(self, start, end):
        ends_in_time = end.hour < DAY_END or (end.hour == DAY_END and end.minute == 0)
        return start.hour >= DAY_START and start.date() == end.date() and ends_in_time

    def find_room(self, start, minutes, people, screen=False):
        end = start + timedelta(minutes=minutes)
        if not self.within_hours(start, end):
            return None
        for room in sorted(self.rooms.values(), key=lambda r: (r.seats, r.name)):
            if room.seats < people or (screen and not room.has_screen):
                continue
            if room.is_free(start, end):
                return room
        return None

    def reserve(self, start, minutes, people, who, screen=False):
        room = self.find_room(start, minutes, people, screen)
        if room is None:
            return None
        room.book(start, start + timedelta(minutes=minutes), who)
        return room.name

    def agenda(self, who):
        items = []
        for room in self.rooms.values():
            for b_start, _, owner in room.bookings:
                if owner == who:
                    items.append((b_start, room.name))
        return [f"{start:%a %H:%M} {name}" for start, name in sorted(items)]

    def utilisation(self, day):
        open_minutes = (DAY_END - DAY_START) * 60
        return {name: round(room.booked_minutes(day) / open_minutes, 3) for name, room in self.rooms.items()}


def slot(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M")


office = Office([
    Room("Pod", 2),
    Room("Oak", 6, has_screen=True),
    Room("Elm", 6),
    Room("Hall", 20, has_screen=True),
])

assert office.reserve(slot("2024-09-16 09:00"), 60, 2, "kai") == "Pod"
assert office.reserve(slot("2024-09-16 09:30"), 30, 2, "noor") == "Elm"
assert office.reserve(slot("2024-09-16 09:00"), 90, 5, "lena", screen=True) == "Oak"
assert office.reserve(slot("2024-09-16 10:00"), 60, 12, "all-hands", screen=True) == "Hall"
assert office.reserve(slot("2024-09-16 14:00"), 45, 4, "kai") == "Elm"

try:
    office.rooms["Pod"].book(slot("2024-09-16 09:15"), slot("2024-09-16 09:45"), "sam")
except ValueError as exc:
    clash = str(exc)
else:
    clash = ""
assert clash == "Pod is already booked then"

# Nothing seats thirty, and half past five plus an hour runs past closing time.
assert office.reserve(slot("2024-09-16 10:00"), 60, 30, "town hall") is None
assert office.reserve(slot("2024-09-16 17:30"), 60, 2, "late call") is None

assert office.agenda("kai") == ["Mon 09:00 Pod", "Mon 14:00 Elm"]
assert office.utilisation(date(2024, 9, 16)) == {"Pod": 0.1, "Oak": 0.15, "Elm": 0.125, "Hall": 0.1}
assert office.utilisation(date(2024, 9, 17))["Hall"] == 0.0
