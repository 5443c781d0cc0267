class Playlist:
    def __init__(self, name, tracks=None):
        self.name = name
        self.tracks = tracks if tracks is not None else []

    def add(self, title, seconds):
        self.tracks.append((title, seconds))
        return self

    def duration(self):
        minutes, seconds = divmod(sum(s for _, s in self.tracks), 60)
        return f"{minutes}:{seconds:02d}"


gym = Playlist("gym").add("Run", 200).add("Lift", 185)
sleep = Playlist("sleep").add("Rain", 600)

assert len(gym.tracks) == 2
assert sleep.duration() == "10:00"
assert gym.duration() == "6:25"
