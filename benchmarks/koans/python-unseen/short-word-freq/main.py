import re


def top_words(text, n=3):
    """The n most frequent words, ties kept in order of first appearance."""
    words = re.findall(r"[a-z']+", text.lower())
    counts = Counter(words)
    return [word for word, _ in counts.most_common(n)]


TEXT = """The cat sat on the mat. The dog sat on the log.
A cat and a dog: the best of friends, don't you think?"""

top = top_words(TEXT)
print(top)
assert top[0] == "the"
assert top == ["the", "cat", "sat"]
assert top_words("Spam spam eggs", n=1) == ["spam"]
assert top_words("") == []
