use std::fmt::Write;

// Formats an invoice: the line items, a subtotal per category and the grand total.

#[derive(Debug, Clone)]
struct LineItem {
    description: String,
    category: String,
    unit_cents: u64,
    quantity: u32,
}

impl LineItem {
    fn new(description: &str, category: &str, unit_cents: u64, quantity: u32) -> Self {
        LineItem {
            description: description.to_string(),
            category: category.to_string(),
            unit_cents,
            quantity,
        }
    }

    fn total_cents(&self) -> u64 {
        self.unit_cents * self.quantity as u64
    }
}

struct Invoice {
    number: u32,
    customer: String,
    items: Vec<LineItem>,
}

impl Invoice {
    fn descriptions(&self) -> Vec<String> {
        self.items.iter().map(|item| item.description.clone())
.collect()
    }

    fn categories(&self) -> Vec<&str> {
        let mut cats: Vec<&str> = self.items.iter().map(|i| i.category.as_str()).collect();
        cats.sort();
        cats.dedup();
        cats
    }

    fn subtotal(&self, category: &str) -> u64 {
        self.items
            .iter()
            .filter(|i| i.category == category)
            .map(LineItem::total_cents)
            .sum()
    }

    fn total(&self) -> u64 {
        self.items.iter().map(|i| i.total_cents()).sum()
    }

    fn render(&self) -> String {
        let mut out = String::new();
        writeln!(out, "Invoice #{} for {}", self.number, self.customer).unwrap();
        for item in &self.items {
            writeln!(
                out,
                "  {:<16} {:>3} x {:>8}",
                item.description,
                item.quantity,
                cents(item.unit_cents)
            )
            .unwrap();
        }
        for cat in self.categories() {
            writeln!(out, "  subtotal {:<10} {:>10}", cat, cents(self.subtotal(cat))).unwrap();
        }
        write!(out, "  TOTAL {:>10}", cents(self.total())).unwrap();
        out
    }
}

fn cents(value: u64) -> String {
    format!("{}.{:02}", value / 100, value % 100)
}

fn main() {
    let invoice = Invoice {
        number: 1042,
        customer: "Harbor Bakery".to_string(),
        items: vec![
            LineItem::new("flour 25kg", "supplies", 3150, 4),
            LineItem::new("oven service", "labour", 12000, 1),
            LineItem::new("yeast", "supplies", 450, 10),
            LineItem::new("delivery", "labour", 2500, 2),
        ],
    };

    assert_eq!(invoice.descriptions(), vec!["flour 25kg", "oven service", "yeast", "delivery"]);
    assert_eq!(invoice.categories(), vec!["labour", "supplies"]);
    assert_eq!(invoice.subtotal("supplies"), 17100);
    assert_eq!(invoice.subtotal("labour"), 17000);
    assert_eq!(invoice.total(), 34100);

    let text = invoice.render();
    assert!(text.starts_with("Invoice #1042 for Harbor Bakery\n"));
    assert!(text.ends_with("TOTAL     341.00"));
    assert_eq!(text.lines().count(), 8);
    println!("{text}");
}
