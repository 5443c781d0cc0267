mod units {
    pub mod length {
        pub fn miles_to_km(miles: f64) -> f64 {
            miles * 1.609_344
        }
        pub fn feet_to_m(feet: f64) -> f64 {
            feet * 0.3048
        }
    }
    pub mod temperature {
        pub fn f_to_c(f: f64) -> f64 {
            (f - 32.0) * 5.0 / 9.0
        }
    }
}

use units::length::{feet_to_m, miles_to_km};
use units::temperature::f_to_c;

fn main() {
    let legs = [("Denver", 0.0, 5280.0, 41.0), ("Vail", 97.0, 8150.0, 28.5), ("Aspen", 101.5, 7908.0, 33.0)];
    for (town, miles, elevation_ft, temp_f) in legs {
        println!(
            "{:<7} +{:>6.1} km  {:>6.0} m  {:>5.1} C",
            town,
            miles_to_km(miles),
            feet_to_m(elevation_ft),
            f_to_c(temp_f)
        );
    }
}
