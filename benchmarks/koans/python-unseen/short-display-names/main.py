# Turn raw account handles into names for a staff directory.


def display_name(handle):
    parts = handle.replace("_", " ").replace(".", " ").split()
    return " ".join(part.capitalise() for part in parts)


def directory(handles):
    return sorted(display_name(h) for h in handles)


assert display_name("ada_lovelace") == "Ada Lovelace"
assert display_name("grace.hopper") == "Grace Hopper"
assert display_name("ALAN_turing") == "Alan Turing"
assert directory(["zed", "amy_pond"]) == ["Amy Pond", "Zed"]
print("directory ok")
