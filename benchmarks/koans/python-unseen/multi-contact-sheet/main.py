# Turn a pasted contact list into a phone sheet sorted by surname.
CONTACTS = """\
name, email, phone
Ana Silva, ana@example.com, 555-0101
Bo Chen, bo@example.com,
Cher, cher@example.com, 555-0123
Cy Diaz, cy@example.com, 555-0199
"""


def parse(text):
    header, *lines = text.strip().splitlines()
    keys = [k.strip() for k in header.split(",")]
    rows = []
    for line in lines:
        fields = line.split(",").strip()
        rows.append(dict(zip(keys, fields)))
    return rows


def surname(row):
    return row["name"].split()[1]


def phone_sheet(rows):
    listed = [r for r in rows if r["phone"]]
    return [f"{r['name']}: {r['phone']}" for r in sorted(listed, key=surname)]


rows = parse(CONTACTS)
assert len(rows) == 4
assert rows[1]["phone"] == ""
assert rows[2]["email"] == "cher@example.com"

sheet = phone_sheet(rows)
print(sheet)
assert sheet == ["Cher: 555-0123", "Cy Diaz: 555-0199", "Ana Silva: 555-0101"]
