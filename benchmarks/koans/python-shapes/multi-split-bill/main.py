def parse_expenses(lines):
    expenses = []
    for line in lines:
        who, amount, what = line.split(",", 2)
        expenses.append((who.strip(), float(amount), what.strip()))
    return expenses


def totals_by_person(expenses):
    totals = {}
    for who, amount, _ in expenses:
        totals[who] = totals.get(who, 0) + amount


def balances(expenses, people):
    paid = totals_by_person(expenses)
    share = sum(amount for _, amount, _ in expenses) / len(people)
    return {p: round(paid.get(p, 0) - share, 2) for p in people}


def settle(bal):
    debtors = sorted((b, p) for p, b in bal.items() if b < 0)
    creditors = sorted(((b, p) for p, b in bal.items() if b > 0), reverse=True)
    transfers = []
    while debtors and creditors:
        debt, debtor = debtors.pop(0)
        credit, creditor = creditors.pop(0)
        amount = round(min(-debt, credit), 2)
        transfers.append(debtor + " pays " + creditor + " " + amount)
        if -debt > amount:
            debtors.insert(0, (debt + amount, debtor))
        if credit > amount:
            creditors.insert(0, (credit - amount, creditor))
    return transfers


expenses = parse_expenses(["ana, 60, groceries", "raj, 30, fuel", "ana, 15, snacks, crisps"])
assert expenses[2] == ("ana", 15.0, "snacks, crisps")
bal = balances(expenses, ["ana", "raj", "kim"])
assert bal == {"ana": 40.0, "raj": -5.0, "kim": -35.0}
assert totals_by_person(expenses) == {"ana": 75.0, "raj": 30.0}
assert settle(bal) == ["kim pays ana 35.0", "raj pays ana 5.0"]
