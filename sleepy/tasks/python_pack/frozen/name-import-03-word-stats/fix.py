import string
from collections import Counter


class TextStats:
    def __init__(self, text):
        cleaned = text.lower().translate(str.maketrans("", "", string.punctuation))
        self.words = cleaned.split()
        self.freq = Counter(self.words)

    def top(self, n):
        return [word for word, _ in self.freq.most_common(n)]

    def lexical_density(self):
        return len(self.freq) / len(self.words)


stats = TextStats("The cat sat on the mat. The mat was flat, and the cat was fat!")

assert stats.top(1) == ["the"]
assert stats.freq["cat"] == 2
assert len(stats.words) == 15
assert stats.lexical_density() == 9 / 15
