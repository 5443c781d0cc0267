use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

// Members of a small library share one catalogue. Lending a book takes a
// copy off the shelf and writes a line to the catalogue's log.

struct Catalogue {
    copies: HashMap<String, u32>,
    log: Vec<String>,
}

struct Member {
    name: String,
    catalogue: Rc<RefCell<Catalogue>>,
    books: Vec<String>,
}

impl Member {
    fn new(name: &str, catalogue: &Rc<RefCell<Catalogue>>) -> Member {
        Member { name: name.to_string(), catalogue: Rc::clone(catalogue), books: Vec::new() }
    }

    fn log(&self, line: String) {
        self.catalogue.borrow_mut().log.push(line);
    }

    fn borrow_book(&mut self, title: &str) -> bool {
        let mut cat = self.catalogue.borrow_mut();
        match cat.copies.get_mut(title) {
            Some(n) if *n > 0 => {
                *n -= 1;
                self.books.push(title.to_string());
                cat.log.push(format!("{} borrowed {}", self.name, title));

                true
            }
            _ => false,
        }
    }

    fn return_book(&mut self, title: &str) -> bool {
        let Some(pos) = self.books.iter().position(|b| b == title) else {
            return false;
        };
        self.books.remove(pos);
        *self.catalogue.borrow_mut().copies.entry(title.to_string()).or_insert(0) += 1;
        self.log(format!("{} returned {}", self.name, title));
        true
    }
}

fn main() {
    let mut copies = HashMap::new();
    copies.insert("Emma".to_string(), 1);
    copies.insert("Kindred".to_string(), 2);
    let catalogue = Rc::new(RefCell::new(Catalogue { copies, log: Vec::new() }));

    let mut ada = Member::new("Ada", &catalogue);
    let mut sam = Member::new("Sam", &catalogue);

    assert!(ada.borrow_book("Emma"));
    assert!(!sam.borrow_book("Emma"));
    assert!(sam.borrow_book("Kindred"));
    assert!(!sam.borrow_book("Ulysses"));
    assert!(ada.return_book("Emma"));
    assert!(!ada.return_book("Emma"));
    assert!(sam.borrow_book("Emma"));

    let cat = catalogue.borrow();
    assert_eq!(cat.copies["Emma"], 0);
    assert_eq!(cat.copies["Kindred"], 1);
    assert_eq!(
        cat.log,
        vec!["Ada borrowed Emma", "Sam borrowed Kindred", "Ada returned Emma", "Sam borrowed Emma"]
    );
    assert_eq!(sam.books, vec!["Kindred", "Emma"]);
    println!("{}", cat.log.join("\n"));
}
