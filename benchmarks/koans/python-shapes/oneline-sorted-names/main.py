names = ["zoe", "al", "max"]; ordered = names.sort(); assert ordered[0] == "al" and ordered[-1] == "zoe"
