use std::time::{Duration, Instant};

struct Session {
    user: String,
    started: Instant,
    idle_limit_secs: u32,
}

impl Session {
    fn expired(&self, now: Instant) -> bool {
        let idle = now.duration_since(self.started).as_secs();
        idle > u64::from(self.idle_limit_secs)
    }
}

fn main() {
    let start = Instant::now();
    let sessions = vec![
        Session { user: "kim".into(), started: start, idle_limit_secs: 300 },
        Session { user: "lee".into(), started: start, idle_limit_secs: 1800 },
    ];
    let later = start + Duration::from_secs(900);
    for s in &sessions {
        let state = if s.expired(later) { "expired" } else { "active" };
        println!("{:<4} {}", s.user, state);
    }
}
