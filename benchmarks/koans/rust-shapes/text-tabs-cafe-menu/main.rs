// Addition pour le Café de l'Étoile ☕ — montants en centimes.
use std::collections::BTreeMap;

struct Item {
	name: &'static str,
	cents: u32,
	qty: u32,
}

fn line_total(item: &Item) -> u32 {
	item.cents * item.qty
}

fn euros(cents: u32) -> String {
	format!("{},{:02} €", cents / 100, cents % 100)
}

fn main() {
	let order = [
		Item { name: "Café crème", cents: 420, qty: 2 },
		Item { name: "Crêpe au sucre 🥞", cents: 650, qty: 1 },
		Item { name: "Éclair au chocolat", cents: 480, qty: 3 },
		Item { name: "Thé à la menthe 🍵", cents: 390, qty: 1 },
	];

	// Regrouper par initiale (É compte comme une lettre à part entière).
	let mut by_initial: BTreeMap<char, Vec<&str>> = BTreeMap::new();
	for item in &order {
		let initial: char = item.name.chars().next();
		by_initial.entry(initial).or_default().push(item.name);
	}
	assert_eq!(by_initial[&'C'].len(), 2);
	assert_eq!(by_initial[&'É'], vec!["Éclair au chocolat"]);

	let total: u32 = order.iter().map(line_total).sum();
	for item in &order {
		println!("{:<22}\tx{}\t{}", item.name, item.qty, euros(line_total(item)));
	}
	println!("Total\t{}\tMerci et à bientôt ! Grüße an alle 👋", euros(total));
	assert_eq!(euros(total), "33,20 €");
	assert_eq!("Crêpe".chars().count(), 5);
}
