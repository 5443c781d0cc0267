"""Lending desk of a village library: copies, loans, returns, overdue report and fines."""

from dataclasses import dataclass, field
from datetime import date, timedelta

LOAN_DAYS = 21
DAILY_FINE_CENTS = 25
MAX_FINE_CENTS = 500


@dataclass
class Book:
    isbn: str
    title: str
    author: str
    copies: int = 1


@dataclass
class Loan:
    isbn: str
    member: str
    borrowed: date
    returned: date | None = None

    @property
    def due(self):
        return self.borrowed + timedelta(days=LOAN_DAYS)

    def is_open(self):
        return self.returned is None


@dataclass
class Library:
    books: dict = field(default_factory=dict)
    loans: list = field(default_factory=list)

    def add_book(self, book):
        if book.isbn in self.books:
            self.books[book.isbn].copies += book.copies
        else:
            self.books[book.isbn] = book

    def available(self, isbn):
        out = sum(1 for loan in self.loans if loan.isbn == isbn and loan.is_open())
        return self.books[isbn].copies - out

    def lend(self, isbn, member, when):
        if self.available(isbn) <= 0:
            raise ValueError(f"no copy of {isbn} left")
        loan = Loan(isbn, member, when)
        self.loans.append(loan)
        return loan

    def give_back(self, isbn, member, when):
        for loan in self.loans:
            if loan.isbn == isbn and loan.member == member and loan.is_open():
                loan.returned = when
                return loan
        raise LookupError(f"{member} has no open loan of {isbn}")

    def on_loan_to(self, member):
        return sorted(self.books[l.isbn].title for l in self.loans if l.member == member and l.is_open())


def fine_for(loan, today):
    end = loan.returned or today
    late_days = (end - loan.due).days
    if late_days <= 0:
        return 0
    return min(late_days * DAILY_FINE_CENTS, MAX_FINE_CENTS)


def member_fines(library, today):
    totals = {}
    for loan in library.loans:
        cents = fine_for(loan, today)
        if cents:
            totals[loan.member] = totals.get(loan.member, 0) + cents
    return totals


def overdue_report(library, today):
    lines = []
    for loan in sorted(library.loans, key=lambda l: l.due):
        if loan.is_open() and loan.due < today:
            title = library.books[loan.isbn].title
            days = (today - loan.due).days
            lines.append(f"{loan.member}: {title} ({days} days late)")
    return lines


lib = Library()
lib.add_book(Book("978-0", "Dune", "Frank Herbert"))
lib.add_book(Book("978-1", "Emma", "Jane Austen", copies=2))
lib.add_book(Book("978-0", "Dune", "Frank Herbert"))

start = date(2024, 3, 1)
lib.lend("978-0", "rita", start)
lib.lend("978-0", "omar", start + timedelta(days=2))
lib.lend("978-1", "rita", start + timedelta(days=5))

try:
    lib.lend("978-0", "lena", start + timedelta(days=6))
except ValueError as exc:
    refused = str(exc)
else:
    refused = ""

assert lib.on_loan_to("rita") == ["Dune", "Emma"]
lib.give_back("978-1", "rita", start + timedelta(days=30))
today = start + timedelta(days=40)

assert refused == "no copy of 978-0 left"
assert lib.available("978-1") == 2
assert lib.available("978-0") == 0
assert lib.on_loan_to("rita") == ["Dune"]
report = overdue_report(lib, today)
assert report == ["rita: Dune (19 days late)", "omar: Dune (17 days late)"]
fines = member_fines(lib, today)
assert fines == {"rita": 475 + 100, "omar": 425}
