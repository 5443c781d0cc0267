// Scales recipes to a number of servings and builds a shopping list.

#[derive(Debug, Clone)]
struct Ingredient {
    name: String,
    grams: u32,
}

#[derive(Debug, Clone)]
struct Recipe {
    title: String,
    servings: u32,
    ingredients: Vec<Ingredient>,
}

impl Recipe {
    fn scaled(&self, servings: u32) -> Recipe {
        let ingredients = self
            .ingredients
            .iter()
            .map(|i| Ingredient { name: i.name.clone(), grams: i.grams * servings / self.servings })
            .collect();
        Recipe { title: self.title.clone(), servings, ingredients }
    }
}

fn title_or(recipe: Option<&Recipe>, fallback: &str) -> &str {
    match recipe {
        Some(r) => &r.title,
        None => fallback,
    }
}

fn main() {
    let flour = Ingredient { name: "flour".to_string(), grams: 250 };
    let milk = Ingredient { name: "milk".to_string(), grams: 300 };
    let pancakes = Recipe { title: "Pancakes".to_string(), servings: 4, ingredients: vec![flour, milk] };

    let party = pancakes.scaled(10);
    assert_eq!(party.ingredients[0], Ingredient { name: "flour".to_string(), grams: 625 });
    assert_eq!(party.ingredients[1].grams, 750);

    let book = vec![pancakes.clone()];
    assert_eq!(title_or(book.first(), "(empty)"), "Pancakes");
    assert_eq!(title_or(book.get(3), "(empty)"), "(empty)");
    println!("{} for {}: {:?}", party.title, party.servings, party.ingredients);
}
