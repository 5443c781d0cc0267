"""A small catalogue for a neighbourhood book-swap shelf."""
from dataclasses import dataclass, field


@dataclass
class Book:
    title: str
    author: str
    year: int
    tags: set = field(default_factory=set)
    on_loan: bool = False

    def label(self):
        return f"{self.title} ({self.author}, {self.year})"


@dataclass
class Shelf:
    books: list = field(default_factory=list)

    def add(self, title, author, year, *tags):
        book = Book(title, author, year, set(tags))
        self.books.append(book)
        return book

    def find(self, title):
        for book in self.books:
            if book.title.lower() == title.lower():
                return book
        return None

    def lend(self, title):
        book = self.find(title)
        if book is None or book.on_loan:
            return False
        book.on_loan = True
        return True

    def give_back(self, title):
        book = self.find(title)
        if book is not None:
            book.on_loan = False

    def available(self):
        return [b for b in self.books if not b.on_loan]


def index_by_author(books):
    index = {}
    for book in books:
        surname = book.author.split()[-1]
        index.setdefault(surname, []).append(book.title)
    for titles in index.values():
        titles.sort()
    return index


def tag_counts(books):
    counts = {}
    for book in books:
        for tag in book.tags:
            counts[tag] = counts.get(tag, 0) + 1
    return counts


def decade_of(book):
    return book.year // 10 * 10


def by_decade(books):
    decades = {decade_of(b) for b in books}
    return {d: sorted(b.title for b in books if decade_of(b) == d) for d in decades}


shelf = Shelf()
shelf.add("The Dispossessed", "Ursula K. Le Guin", 1974, "sf", "politics")
shelf.add("A Wizard of Earthsea", "Ursula K. Le Guin", 1968, "fantasy")
shelf.add("Kindred", "Octavia E. Butler", 1979, "sf", "history")
shelf.add("Parable of the Sower", "Octavia E. Butler", 1993, "sf")
shelf.add("Piranesi", "Susanna Clarke", 2020, "fantasy")

assert shelf.lend("kindred")
assert not shelf.lend("Kindred")
assert not shelf.lend("Dune")
assert len(shelf.available()) == 4

shelf.give_back("Kindred")
assert len(shelf.available()) == 5

index = index_by_author(shelf.books)
assert index["Guin"] == ["A Wizard of Earthsea", "The Dispossessed"]
assert index["Butler"] == ["Kindred", "Parable of the Sower"]
assert sorted(index) == ["Butler", "Clarke", "Guin"]

tags = tag_counts(shelf.books)
assert tags == {"sf": 3, "politics": 1, "fantasy": 2, "history": 1}

decades = by_decade(shelf.books)
assert decades[1970] == ["Kindred", "The Dispossessed"]
assert sorted(decades) == [1960, 1970, 1990, 2020]
assert shelf.find("piranesi").label() == "Piranesi (Susanna Clarke, 2020)"
print("catalogue ok")
