class Query:
    def __init__(self, table):
        self.table = table
        self.filters = []
        self.order = None

    def where(self, clause):
        self.filters.append(clause)
        return self

    def order_by(self, column):
        self.order = column

    def sql(self):
        text = f"SELECT * FROM {self.table}"
        if self.filters:
            text += " WHERE " + " AND ".join(self.filters)
        if self.order:
            text += f" ORDER BY {self.order}"
        return text


q = Query("orders").where("total > 100").order_by("created_at").where("status = 'paid'")

assert q.sql() == "SELECT * FROM orders WHERE total > 100 AND status = 'paid' ORDER BY created_at"
assert Query("users").sql() == "SELECT * FROM users"
