pub trait Measurement {
    fn value(&self) -> f64;
    fn unit(&self) -> &'static str;

    fn describe(&self) -> String {
        format!("{:.1} {}", self.value(), self.unit())
    }
}

pub struct Weight {
    pub grams: f64,
}

pub struct Distance {
    pub meters: f64,
}

impl Measurement for Weight {
    fn value(&self) -> f64 {
        self.grams / 1000.0
    }
    fn unit(&self) -> &'static str {
        "kg"
    }
}

impl Measurement for Distance {
    fn value(&self) -> f64 {
        self.meters
    }
}

pub fn describe_all(items: &[&dyn Measurement]) -> Vec<String> {
    items.iter().map(|m| m.describe()).collect()
}
