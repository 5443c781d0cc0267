use std::collections::{HashMap, HashSet, VecDeque};

// Reads a small tile map ('~' water, '#' rock, '.' grass), flood-fills
// regions and measures how big each connected region is.

#[derive(Debug, Clone, Copy, PartialEq)]
struct Pos {
    x: i32,
    y: i32,
}

impl Pos {
    fn neighbours(self) -> [Pos; 4] {
        [
            Pos { x: self.x + 1, y: self.y },
            Pos { x: self.x - 1, y: self.y },
            Pos { x: self.x, y: self.y + 1 },
            Pos { x: self.x, y: self.y - 1 },
        ]
    }
}

struct TileMap {
    tiles: HashMap<Pos, char>,
    width: i32,
    height: i32,
}

impl TileMap {
    fn parse(text: &str) -> TileMap {
        let mut tiles = HashMap::new();
        let mut width = 0;
        let mut height = 0;
        for (y, line) in text.lines().enumerate() {
            for (x, ch) in line.chars().enumerate() {
                tiles.insert(Pos { x: x as i32, y: y as i32 }, ch);
                width = width.max(x as i32 + 1);
            }
            height = y as i32 + 1;
        }
        TileMap { tiles, width, height }
    }

    fn region_size(&self, start: Pos) -> usize {
        let kind = match self.tiles.get(&start) {
            Some(&c) => c,
            None => return 0,
        };
        let mut seen = HashSet::new();
        let mut queue = VecDeque::new();
        seen.insert(start);
        queue.push_back(start);
        while let Some(p) = queue.pop_front() {
            for n in p.neighbours() {
                if self.tiles.get(&n) == Some(&kind) && seen.insert(n) {
                    queue.push_back(n);
                }
            }
        }
        seen.len()
    }

    fn count(&self, kind: char) -> usize {
        self.tiles.values().filter(|&&c| c == kind).count()
    }
}

fn main() {
    let map = TileMap::parse("~~#..\n~##..\n~#...\n##.~~");
    assert_eq!(map.width, 5);
    assert_eq!(map.height, 4);

    assert_eq!(map.region_size(Pos { x: 0, y: 0 }), 4);
    assert_eq!(map.region_size(Pos { x: 2, y: 0 }), 6);
    assert_eq!(map.region_size(Pos { x: 4, y: 2 }), 8);
    assert_eq!(map.region_size(Pos { x: 4, y: 3 }), 2);
    assert_eq!(map.region_size(Pos { x: 9, y: 9 }), 0);

    assert_eq!(map.count('~'), 6);
    assert_eq!(map.count('~') + map.count('#') + map.count('.'), 20);
    println!("map is {}x{}", map.width, map.height);
}
