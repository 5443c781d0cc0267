#[derive(Clone, Copy, Debug)]
enum Direction {
    North,
    East,
    South,
    West,
}

fn turn_right(d: Direction) -> Direction {
    match d {
        Direction::North => Direction::East,
        Direction::East => Direction::South,
        Direction::South => Direction::West,
        Direction::West => Direction::North,
    }
}

fn main() {
    let commands = "FFRFFRFLF";
    let mut facing = Direction::North;
    let mut route = Vec::new();

    for c in commands.chars() {
        match c {
            'R' => facing = turn_right(facing),
            'L' => facing = turn_right(turn_right(turn_right(facing))),
            _ => route.push(facing),
        }
    }

    println!("moved {} steps: {:?}", route.len(), route);
}
