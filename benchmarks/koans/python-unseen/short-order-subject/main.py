import re

# Pull the order number out of customer e-mail subject lines.


def order_number(subject):
    m = re.match(r"#(\d+)", subject)
    return int(m.group(1))


def numbers(subjects):
    return [order_number(s) for s in subjects if "#" in s]


assert order_number("#1002 arrived damaged") == 1002
assert order_number("Re: order #4411 shipped?") == 4411
assert numbers(["Hello", "Where is #77", "#5 and #6"]) == [77, 5]
print("subjects ok")
