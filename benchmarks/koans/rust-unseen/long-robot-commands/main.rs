// A tiny command interpreter for a warehouse robot moving on a grid.
// Each line of a program is one command: "F <n>", "L", "R", "PICK" or "DROP".

#[derive(Debug, Clone, Copy, PartialEq)]
enum Command {
    Forward(u32),
    Left,
    Right,
    Pick,
    Drop,
}

#[derive(Debug)]
struct ParseError(String);

impl std::str::FromStr for Command {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split_whitespace();
        match (parts.next(), parts.next()) {
            (Some("F"), Some(n)) => n
                .parse()
                .map(Command::Forward)
                .map_err(|_| ParseError(format!("bad distance in {s:?}"))),
            (Some("L"), None) => Ok(Command::Left),
            (Some("R"), None) => Ok(Command::Right),
            (Some("PICK"), None) => Ok(Command::Pick),
            (Some("DROP"), None) => Ok(Command::Drop),
            _ => Err(ParseError(format!("unknown command {s:?}"))),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Heading {
    North,
    East,
    South,
    West,
}

impl Heading {
    fn left(self) -> Heading {
        match self {
            Heading::North => Heading::West,
            Heading::West => Heading::South,
            Heading::South => Heading::East,
            Heading::East => Heading::North,
        }
    }

    fn right(self) -> Heading {
        self.left().left().left()
    }
}

#[derive(Debug)]
struct Robot {
    x: i32,
    y: i32,
    heading: Heading,
    carrying: bool,
    delivered: u32,
}

impl Robot {
    fn new() -> Robot {
        Robot { x: 0, y: 0, heading: Heading::North, carrying: false, delivered: 0 }
    }

    fn apply(&mut self, cmd: Command) -> Result<(), String> {
        match cmd {
            Command::Forward(n) => {
                let n = n as i32;
                match self.heading {
                    Heading::North => self.y += n,
                    Heading::South => self.y -= n,
                    Heading::East => self.x += n,
                    Heading::West => self.x -= n,
                }
            }
            Command::Left => self.heading = self.heading.left(),
            Command::Right => self.heading = self.heading.right(),
            Command::Pick if self.carrying => return Err("already carrying a crate".to_string()),
            Command::Pick => self.carrying = true,
            Command::Drop if !self.carrying => return Err("nothing to drop".to_string()),
            Command::Drop => {
                self.carrying = false;
                self.delivered += 1;
            }
        }
        Ok(())
    }
}

fn run(program: &str) -> Result<Robot, String> {
    let mut robot = Robot::new();
    for line in program.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let cmd = Command::from_str(line).map_err(|e| e.0)?;
        robot.apply(cmd)?;
    }
    Ok(robot)
}

fn main() {
    let robot = run("PICK\nF 3\nR\nF 2\nDROP\n\nL\nL\nF 5\n").unwrap();
    assert_eq!((robot.x, robot.y), (-3, 3));
    assert_eq!(robot.heading, Heading::West);
    assert_eq!(robot.delivered, 1);
    assert!(!robot.carrying);

    assert_eq!(run("DROP").unwrap_err(), "nothing to drop");
    assert_eq!(run("PICK\nPICK").unwrap_err(), "already carrying a crate");
    assert!(run("F far").unwrap_err().starts_with("bad distance"));
    assert!(run("JUMP").unwrap_err().starts_with("unknown command"));
    println!("robot ends at {:?}", robot);
}
