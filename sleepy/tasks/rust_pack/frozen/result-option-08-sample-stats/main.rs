/// Difference between the largest and smallest sample.
pub fn spread(samples: &[i32]) -> Option<i32> {
    let hi = samples.iter().max();
    let lo = samples.iter().min();
    Some(hi - lo)
}

pub fn mean(samples: &[i32]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let total: i64 = samples.iter().map(|&x| x as i64).sum();
    Some(total as f64 / samples.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_of_readings() {
        assert_eq!(spread(&[12, -3, 40, 7]), Some(43));
        assert_eq!(spread(&[5]), Some(0));
    }

    #[test]
    fn empty_input_has_no_stats() {
        assert_eq!(spread(&[]), None);
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[1, 2]), Some(1.5));
    }
}
