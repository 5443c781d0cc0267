struct Sensor {
    label: &'static str,
    reading: f32,
}

impl Sensor {
    fn sample(&self, tick: u32) -> f32 {
        self.reading + (tick as f32 * 0.7).sin() * 1.5
    }
}

fn main() {
    let mut sensor = Sensor { label: "hall", reading: 19.5 };
    let target = 21.0;

    for tick in 1..=5 {
        let previous = sensor.reading;
        sensor.reading = sensor.sample(tick);
        let delta = sensor.reading - previous;
        let action = if sensor.reading < target { "heat" } else { "idle" };
        println!("[{}] t={} {:.2} ({:+.2}) -> {}", sensor.label, tick, sensor.reading, delta, action);
    }
}
