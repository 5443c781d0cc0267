use std::collections::{HashSet, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Pos {
    row: i32,
    col: i32,
}

const MAZE: [&str; 5] = ["#########", "#S..#...#", "#.#.#.#.#", "#.#...#E#", "#########"];

fn open(p: Pos) -> bool {
    MAZE.get(p.row as usize)
        .and_then(|line| line.as_bytes().get(p.col as usize))
        .map_or(false, |&b| b != b'#')
}

fn main() {
    let (start, exit) = (Pos { row: 1, col: 1 }, Pos { row: 3, col: 7 });
    let mut visited: HashSet<Pos> = HashSet::new();
    let mut queue = VecDeque::from([(start, 0)]);

    while let Some((p, dist)) = queue.pop_front() {
        if p == exit {
            println!("exit reached in {} steps ({} cells explored)", dist, visited.len());
            return;
        }
        if !visited.insert(p) {
            continue;
        }
        for (dr, dc) in [(0, 1), (1, 0), (0, -1), (-1, 0)] {
            let next = Pos { row: p.row + dr, col: p.col + dc };
            if open(next) {
                queue.push_back((next, dist + 1));
            }
        }
    }
    println!("no way out");
}
