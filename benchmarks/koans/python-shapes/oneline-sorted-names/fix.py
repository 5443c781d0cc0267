names = ["zoe", "al", "max"]; ordered = sorted(names); assert ordered[0] == "al" and ordered[-1] == "zoe"
