use std::collections::HashMap;

struct Codebook {
    table: HashMap<&'static str, char>,
}

impl Codebook {
    fn new() -> Self {
        let pairs = [
            (".-", 'A'), ("-...", 'B'), ("-.-.", 'C'), ("-..", 'D'), (".", 'E'),
            ("....", 'H'), ("..", 'I'), (".-..", 'L'), ("---", 'O'), (".-.", 'R'),
            ("...", 'S'), ("-", 'T'), (".--", 'W'),
        ];
        Codebook { table: pairs.into_iter().collect() }
    }

    fn decode_word(&self, word: &str) -> String {
        let mut out = String::new();
        for sym in word.split(' ').filter(|s| !s.is_empty()) {
            out.push(self.table.get(sym).copied().unwrap_or('?'));
        }
        out
    }

    fn decode(&self, message: &str) -> String {
        message.split(" / ").map(|w| self.decode_word(w)).collect::<Vec<_>>().join(" ")
    }
}

fn main() {
    let book = Codebook::new();
    let msg = ".... . .-.. .-.. --- / .-- --- .-. .-.. -..";
    assert_eq!(book.decode(msg), "HELLO WORLD");
    assert_eq!(book.decode("... --- ... / --..--"), "SOS ?");

    let words = msg.matches(" / ").count() + 1;
    assert_eq!(words, 2);
    println!("{} words: {}", words, book.decode(msg));
}
