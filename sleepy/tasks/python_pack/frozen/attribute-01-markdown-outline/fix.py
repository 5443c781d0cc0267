DOC = """# Guide
Intro text.
## Install
Run the installer.
## Usage
### Flags
Pass --verbose for more output.
"""


def outline(markdown):
    items = []
    for line in markdown.splitlines():
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            items.append((level, line.lstrip("#").strip()))
    return items


toc = outline(DOC)

assert toc[0] == (1, "Guide")
assert [title for _, title in toc] == ["Guide", "Install", "Usage", "Flags"]
assert max(level for level, _ in toc) == 3
