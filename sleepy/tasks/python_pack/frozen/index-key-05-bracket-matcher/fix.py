PAIRS = {")": "(", "]": "[", "}": "{"}


def balanced(expr):
    stack = []
    for ch in expr:
        if ch in "([{":
            stack.append(ch)
        elif ch in PAIRS:
            if not stack or stack.pop() != PAIRS[ch]:
                return False
    return not stack


assert balanced("f(a[0], {b: c})")
assert not balanced("(]")
assert not balanced("())(")
assert not balanced("((")
