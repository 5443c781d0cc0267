// Keeps a reading list and reports which titles are long reads.

struct Book {
    title: String,
    pages: u32,
}

fn main() {
    let books = vec![
        Book { title: String::from("Dune"), pages: 412 },
        Book { title: String::from("Piranesi"), pages: 272 },
        Book { title: String::from("Middlemarch"), pages: 880 },
        Book { title: String::from("Momo"), pages: 240 },
    ];

    let mut long_reads = Vec::new();
    for book in books {
        if book.pages > 400 {
            long_reads.push(book.title.clone());
        }
    }

    let total_pages: u32 = books.iter().map(|b| b.pages).sum();
    assert_eq!(long_reads, vec!["Dune", "Middlemarch"]);
    assert_eq!(total_pages, 1804);
    println!("{} books, {} pages, long reads: {:?}", books.len(), total_pages, long_reads);
}
