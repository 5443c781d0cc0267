use std::collections::VecDeque;

#[derive(Debug, Clone, PartialEq)]
enum Status {
    Ready,
    NeedsService,
    OnLine(u8),
}

#[derive(Debug, Clone)]
struct Tram {
    number: u16,
    km_since_service: u32,
    status: Status,
}

impl Tram {
    fn new(number: u16, km: u32) -> Self {
        let status = if km > 5_000 { Status::NeedsService } else { Status::Ready };
        Tram { number, km_since_service: km, status }
    }
}

struct Departure {
    tram: u16,
    line: u8,
    minute: u32,
}

struct Depot {
    waiting: VecDeque<Tram>,
    workshop: Vec<Tram>,
    log: Vec<Departure>,
}

impl Depot {
    fn new(trams: Vec<Tram>) -> Self {
        let mut depot = Depot { waiting: VecDeque::new(), workshop: Vec::new(), log: Vec::new() };
        for t in trams {
            if t.status == Status::NeedsService {
                depot.workshop.push(t);
            } else {
                depot.waiting.push_back(t);
            }
        }
        depot
    }

    fn dispatch(&mut self, line: u8, minute: u32) -> Option<u16> {
        let mut tram = self.waiting.pop_front()?;
        tram.status = Status::OnLine(line);
        let number = tram.number;
        self.log.push(Departure { tram: number, line, minute });
        self.waiting.push_back(tram);
        Some(number)
    }

    fn service_all(&mut self) -> usize {
        let n = self.workshop.len();
        for mut t in self.workshop.drain(..) {
            t.km_since_service = 0;
            t.status = Status::Ready;
            self.waiting.push_front(t);
        }
        n
    }

    fn next_in_line(&self) -> Option<&Tram> {
        self.waiting.front()
    }

    fn departures_on(&self, line: u8) -> Vec<u32> {
        self.log.iter().filter(|d| d.line == line).map(|d| d.minute).collect()
    }
}

fn timetable(depot: &mut Depot, lines: &[u8], every: u32, until: u32) {
    let mut minute = 0;
    while minute < until {
        for &line in lines {
            if depot.dispatch(line, minute).is_none() {
                println!("no tram free for line {} at {}", line, minute);
            }
        }
        minute += every;
    }
}

fn main() {
    let trams = vec![
        Tram::new(101, 1_200),
        Tram::new(102, 6_400),
        Tram::new(103, 300),
        Tram::new(104, 5_100),
    ];
    let mut depot = Depot::new(trams);
    assert_eq!(depot.waiting.len(), 2);
    assert_eq!(depot.workshop.len(), 2);

    timetable(&mut depot, &[4, 9], 10, 30);
    assert_eq!(depot.log.len(), 6);
    assert_eq!(depot.departures_on(9), vec![0, 10, 20]);

    let first_number = depot.next_in_line().map(|t| t.number);
    let serviced = depot.service_all();
    assert_eq!(serviced, 2);
    println!("next tram before service: {:?}", first_number);
    let first = depot.next_in_line().unwrap();
    assert_eq!(first.number, 104);
    assert_eq!(first.status, Status::Ready);

    for d in &depot.log {
        println!("{:>3} min  line {:<2} tram {}", d.minute, d.line, d.tram);
    }
}
