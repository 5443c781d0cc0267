use std::collections::BTreeMap;
use std::fmt;

// Collects exam scores per student, turns the averages into letter grades
// and prints a report sorted from the best grade to the worst.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grade {
    A,
    B,
    C,
    D,
    F,
}

impl Grade {
    fn from_score(score: u32) -> Grade {
        match score {
            90..=100 => Grade::A,
            80..=89 => Grade::B,
            70..=79 => Grade::C,
            60..=69 => Grade::D,
            _ => Grade::F,
        }
    }

    fn passed(self) -> bool {
        self != Grade::F
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let letter = match self {
            Grade::A => "A",
            Grade::B => "B",
            Grade::C => "C",
            Grade::D => "D",
            Grade::F => "F",
        };
        write!(f, "{}", letter)
    }
}

struct Gradebook {
    scores: BTreeMap<String, Vec<u32>>,
}

impl Gradebook {
    fn new() -> Self {
        Gradebook { scores: BTreeMap::new() }
    }

    fn record(&mut self, student: &str, score: u32) {
        self.scores.entry(student.to_string()).or_default().push(score);
    }

    fn average(&self, student: &str) -> Option<u32> {
        let list = self.scores.get(student)?;
        if list.is_empty() {
            return None;
        }
        Some(list.iter().sum::<u32>() / list.len() as u32)
    }

    /// (grade, student) pairs, best grade first; ties are ordered by name.
    fn grades(&self) -> Vec<(Grade, String)> {
        let mut out: Vec<(Grade, String)> = self
            .scores
            .keys()
            .filter_map(|name| self.average(name).map(|avg| (Grade::from_score(avg), name.clone())))
            .collect();
        out.sort();
        out
    }

    fn report(&self) -> String {
        self.grades()
            .iter()
            .map(|(grade, name)| format!("{grade} {name}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn main() {
    let mut book = Gradebook::new();
    let exams = [
        ("Maya", 93),
        ("Jonas", 71),
        ("Maya", 88),
        ("Priya", 85),
        ("Jonas", 64),
        ("Priya", 90),
        ("Tom", 40),
        ("Lena", 89),
    ];
    for (name, score) in exams {
        book.record(name, score);
    }

    assert_eq!(book.average("Maya"), Some(90));
    assert_eq!(book.average("Nobody"), None);

    let grades = book.grades();
    assert_eq!(grades[0], (Grade::A, "Maya".to_string()));
    assert_eq!(grades.last().unwrap().0, Grade::F);
    assert_eq!(grades.iter().filter(|(g, _)| g.passed()).count(), 4);
    assert_eq!(book.report(), "A Maya\nB Lena\nB Priya\nD Jonas\nF Tom");
    println!("{}", book.report());
}
