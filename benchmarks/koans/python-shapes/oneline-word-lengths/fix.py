from collections import Counter

counts = Counter(len(word) for word in ["the", "quick", "brown", "fox", "jumps", "over", "the", "lazy", "dog"]); assert counts[5] == 3 and counts[3] == 4
