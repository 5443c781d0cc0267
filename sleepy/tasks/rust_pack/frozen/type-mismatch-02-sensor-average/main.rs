struct Sensor {
    id: &'static str,
    readings: Vec<f64>,
}

impl Sensor {
    fn mean(&self) -> Option<f64> {
        if self.readings.is_empty() {
            return None;
        }
        let total: f64 = self.readings.iter().sum();
        Some(total / self.readings.len())
    }

    fn peak(&self) -> Option<f64> {
        self.readings.iter().copied().fold(None, |acc, r| match acc {
            Some(m) if m >= r => Some(m),
            _ => Some(r),
        })
    }
}

fn main() {
    let sensors = [
        Sensor { id: "north", readings: vec![18.5, 19.25, 21.0, 20.75] },
        Sensor { id: "cellar", readings: vec![] },
    ];
    for s in &sensors {
        match (s.mean(), s.peak()) {
            (Some(avg), Some(max)) => println!("{}: avg {:.2}, peak {:.2}", s.id, avg, max),
            _ => println!("{}: no data", s.id),
        }
    }
}
