"""Plain-text paragraph formatter: wrapping, justification and centred headings."""

TEXT = """
Snow fell on the quiet harbour
town all night.

By morning the boats were white
and the gulls had gone inland.
"""


def split_paragraphs(text):
    paras = []
    current = []
    for line in text.splitlines():
        if line.strip():
            current.append(line.strip())
        elif current:
            paras.append(" ".join(current))
            current = []
    if current:
        paras.append(" ".join(current))
    return paras


def wrap(paragraph, width):
    lines = []
    current = ""
    for word in paragraph.split():
        if not current:
            current = word
        elif len(current) + 1 + len(word) < width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def justify_line(line, width):
    words = line.split()
    if len(words) == 1:
        return line.ljust(width)
    gaps = len(words) - 1
    spaces = width - sum(len(w) for w in words)
    base, extra = divmod(spaces, gaps)
    out = ""
    for i, word in enumerate(words[:-1]):
        out += word + " " * (base + (1 if i < extra else 0))
    return out + words[-1]


def justify(lines, width):
    if not lines:
        return []
    return [justify_line(line, width) for line in lines[:-1]] + [lines[-1]]


def centre(title, width, fill=" "):
    pad = width - len(title)
    left = pad // 2
    return fill * left + title + fill * (pad - left)


def format_document(title, text, width):
    out = [centre(title.upper(), width, "="), ""]
    for i, para in enumerate(split_paragraphs(text)):
        if i:
            out.append("")
        out.extend(justify(wrap(para, width), width))
    return "\n".join(out)


def word_count(text):
    return sum(len(para.split()) for para in split_paragraphs(text))


def longest_word(text):
    return max(text.split(), key=len)


def reading_time(text, words_per_minute=200):
    words = word_count(text)
    minutes, rest = divmod(words, words_per_minute)
    return minutes + (1 if rest else 0)


paras = split_paragraphs(TEXT)
assert len(paras) == 2
assert paras[0] == "Snow fell on the quiet harbour town all night."
assert word_count(TEXT) == 21
assert longest_word(TEXT) == "harbour"
assert reading_time(TEXT) == 1
assert centre("TIDE", 10, "-") == "---TIDE---"
assert justify_line("quiet harbour", 16) == "quiet    harbour"
assert justify_line("a b c", 8) == "a   b  c"

lines = wrap(paras[0], 16)
assert all(len(line) <= 16 for line in lines)
assert lines == ["Snow fell on the", "quiet harbour", "town all night."]

doc = format_document("Harbour", TEXT, 16).splitlines()
assert doc[0] == "====HARBOUR====="
assert doc[2] == "Snow fell on the"
assert doc[3] == "quiet    harbour"
assert doc[4] == "town all night."
assert doc[5] == ""
assert all(len(line) == 16 for line in doc[6:-1])
