def gc_content(seq):
    gc = sum(1 for base in seq if base in "GC")
    return gc / len(seq)


def dinucleotides(seq):
    counts = {}
    for i in range(len(seq) - 1):
        pair = seq[i] + seq[i + 1]
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def complement(seq):
    pairs = {"A": "T", "T": "A", "G": "C", "C": "G"}
    return "".join(pairs[base] for base in seq)


def reverse_complement(seq):
    return complement(seq)[::-1]


def report(name, seq):
    return name + ": " + str(len(seq)) + " bp, GC " + f"{gc_content(seq):.0%}"


seq = "ATGCGCAT"
assert gc_content(seq) == 0.5
assert dinucleotides(seq) == {"AT": 2, "TG": 1, "GC": 2, "CG": 1, "CA": 1}
assert complement("AACG") == "TTGC"
assert reverse_complement("AACG") == "CGTT"
assert report("probe", seq) == "probe: 8 bp, GC 50%"
