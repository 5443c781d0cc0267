use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Unit {
    Grams,
    Millilitres,
    Pieces,
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let s = match self {
            Unit::Grams => "g",
            Unit::Millilitres => "ml",
            Unit::Pieces => "pc",
        };
        write!(f, "{}", s)
    }
}

#[derive(Debug, Clone)]
struct Ingredient {
    name: String,
    amount: f64,
    unit: Unit,
}

impl Ingredient {
    fn new(name: &str, amount: f64, unit: Unit) -> Self {
        Ingredient { name: name.to_string(), amount, unit }
    }

    fn scaled(&self, factor: f64) -> Ingredient {
        let mut out = self.clone();
        out.amount = if self.unit == Unit::Pieces {
            (self.amount * factor).ceil()
        } else {
            (self.amount * factor * 10.0).round() / 10.0
        };
        out
    }
}

struct Recipe {
    title: String,
    serves: u32,
    ingredients: Vec<Ingredient>,
}

impl Recipe {
    fn new(title: &str, serves: u32) -> Self {
        Recipe { title: title.to_string(), serves, ingredients: Vec::new() }
    }

    fn add(&mut self, ing: Ingredient) -> &mut Self {
        self.ingredients.push(ing);
        self
    }

    fn for_servings(&self, people: u32) -> Recipe {
        let factor = people as f64 / self.serves as f64;
        Recipe {
            title: format!("{} (x{})", self.title, people),
            serves: people,
            ingredients: self.ingredients.iter().map(|i| i.scaled(factor)).collect(),
        }
    }

    fn total_weight(&self) -> f64 {
        self.ingredients
            .iter()
            .filter(|i| i.unit != Unit::Pieces)
            .map(|i| i.amount)
            .sum()
    }
}

fn shopping_list(recipes: &[Recipe]) -> Vec<Ingredient> {
    let mut list: Vec<Ingredient> = Vec::new();
    for r in recipes {
        for ing in &r.ingredients {
            match list.iter_mut().find(|l| l.name == ing.name && l.unit == ing.unit) {
                Some(existing) => existing.amount += ing.amount,
                None => list.push(ing.clone()),
            }
        }
    }
    list.sort_by(|a, b| a.name.cmp(&b.name));
    list
}

fn main() {
    let mut pancakes = Recipe::new("Pancakes", 4);
    pancakes
        .add(Ingredient::new("flour", 250.0, Unit::Grams))
        .add(Ingredient::new("milk", 500.0, Unit::Millilitres))
        .add(Ingredient::new("egg", 2.0, Unit::Pieces));

    let mut omelette = Recipe::new("Omelette", 2);
    omelette
        .add(Ingredient::new("egg", 3.0, Unit::Pieces))
        .add(Ingredient::new("milk", 50.0, Unit::Millilitres));

    let big = pancakes.for_servings(6);
    assert_eq!(big.ingredients[0].amount, 375.0);
    assert_eq!(big.ingredients[2].amount, 3.0);
    assert_eq!(big.total_weight(), 1125.0);

    let list = shopping_list(&[big, omelette.for_servings(3)]);
    for item in &list {
        println!("{:>8.1} {:<3} {}", item.amount, item.unit, item.name);
    }
    let eggs = list.iter().find(|i| i.name == "egg").map(|i| i.amount);
    assert_eq!(eggs, Some(8.0));
    assert_eq!(list.len(), 3);
}
