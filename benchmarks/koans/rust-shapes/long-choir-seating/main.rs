use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Voice {
    Soprano,
    Alto,
    Tenor,
    Bass,
}

impl fmt::Display for Voice {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let name = match self {
            Voice::Soprano => "S",
            Voice::Alto => "A",
            Voice::Tenor => "T",
            Voice::Bass => "B",
        };
        f.write_str(name)
    }
}

#[derive(Debug, Clone)]
struct Singer {
    name: String,
    voice: Voice,
    height_cm: u16,
}

struct Choir {
    singers: Vec<Singer>,
    row_width: usize,
}

impl Choir {
    fn new(row_width: usize) -> Self {
        Choir { singers: Vec::new(), row_width }
    }

    fn add(&mut self, name: &str, voice: Voice, height_cm: u16) {
        self.singers.push(Singer { name: name.to_string(), voice, height_cm });
    }

    fn by_voice(&self) -> BTreeMap<Voice, Vec<usize>> {
        let mut groups: BTreeMap<Voice, Vec<usize>> = BTreeMap::new();
        for (i, s) in self.singers.iter().enumerate() {
            groups.entry(s.voice).or_default().push(i);
        }
        groups
    }

    fn tallest(&self) -> Option<&Singer> {
        self.singers.iter().max_by_key(|s| s.height_cm)
    }

    /// Short singers in front: rows are filled from the front, shortest first.
    fn rows(&self) -> Vec<Vec<String>> {
        let mut order: Vec<usize> = (0..self.singers.len()).collect();
        order.sort_by_key(|&i| (self.singers[i].height_cm, self.singers[i].voice));
        let mut rows = Vec::new();
        let mut current = Vec::new();
        for i in order {
            let name = self.singers[i].name;
            current.push(name);
            if current.len() == self.row_width {
                rows.push(current);
                current = Vec::new();
            }
        }
        if !current.is_empty() {
            rows.push(current);
        }
        rows
    }

    fn section_sizes(&self) -> Vec<(Voice, usize)> {
        self.by_voice().into_iter().map(|(v, members)| (v, members.len())).collect()
    }
}

fn chart(rows: &[Vec<String>]) -> String {
    let mut lines = Vec::new();
    for (n, row) in rows.iter().enumerate().rev() {
        lines.push(format!("row {}: {}", n + 1, row.join("  ")));
    }
    lines.join("\n")
}

fn main() {
    let mut choir = Choir::new(3);
    choir.add("Marit", Voice::Soprano, 162);
    choir.add("Oskar", Voice::Bass, 188);
    choir.add("Lena", Voice::Alto, 170);
    choir.add("Femi", Voice::Tenor, 179);
    choir.add("Yuki", Voice::Soprano, 155);
    choir.add("Dario", Voice::Bass, 183);
    choir.add("Hanne", Voice::Alto, 167);

    let sizes = choir.section_sizes();
    assert_eq!(sizes, vec![(Voice::Soprano, 2), (Voice::Alto, 2), (Voice::Tenor, 1), (Voice::Bass, 2)]);
    for (voice, n) in &sizes {
        println!("{}: {}", voice, n);
    }

    let rows = choir.rows();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0], vec!["Yuki", "Marit", "Hanne"]);
    assert_eq!(rows[2], vec!["Oskar"]);
    println!("{}", chart(&rows));

    let tallest = choir.tallest().map(|s| s.name.as_str());
    assert_eq!(tallest, Some("Oskar"));
    assert_eq!(choir.singers.len(), 7);
}
