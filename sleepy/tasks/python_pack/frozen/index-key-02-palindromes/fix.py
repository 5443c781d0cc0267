def is_palindrome(phrase):
    letters = "".join(ch.lower() for ch in phrase if ch.isalnum())
    for i in range(len(letters) // 2):
        if letters[i] != letters[len(letters) - 1 - i]:
            return False
    return True


phrases = ["A man, a plan, a canal: Panama", "Never odd or even", "Open source", "Step on no pets"]
results = [is_palindrome(p) for p in phrases]

assert results == [True, True, False, True]
assert is_palindrome("")
assert not is_palindrome("ab")
