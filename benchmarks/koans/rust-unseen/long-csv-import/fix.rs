// Imports a CSV export of sensor readings. Good rows become readings,
// malformed rows are reported with their line number and the reason.

#[derive(Debug, PartialEq)]
struct Reading {
    sensor: String,
    celsius: f64,
    battery: u8,
}

fn parse_row(line: &str) -> Result<Reading, String> {
    let mut cols = line.split(',').map(str::trim);
    let sensor = cols.next().filter(|s| !s.is_empty()).ok_or("empty sensor name")?;
    let celsius_text = cols.next().ok_or("missing temperature column")?;

    let celsius: f64 = celsius_text
        .parse()
        .map_err(|_| format!("bad temperature {celsius_text:?}"))?;
    let battery: u8 = cols
        .next()
        .ok_or("missing battery column")?
        .parse()
        .map_err(|e| format!("bad battery level: {e}"))?;
    if cols.next().is_some() {
        return Err(format!("too many columns in {line:?}"));
    }
    Ok(Reading { sensor: sensor.to_string(), celsius, battery })
}

fn import(text: &str) -> (Vec<Reading>, Vec<String>) {
    let mut good = Vec::new();
    let mut errors = Vec::new();
    // the first line is the header
    for (n, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        match parse_row(line) {
            Ok(reading) => good.push(reading),
            Err(e) => errors.push(format!("line {}: {}", n + 1, e)),
        }
    }
    (good, errors)
}

fn average(readings: &[Reading]) -> Option<f64> {
    if readings.is_empty() {
        return None;
    }
    Some(readings.iter().map(|r| r.celsius).sum::<f64>() / readings.len() as f64)
}

fn low_battery(readings: &[Reading], below: u8) -> Vec<&str> {
    readings
        .iter()
        .filter(|r| r.battery < below)
        .map(|r| r.sensor.as_str())
        .collect()
}

fn main() {
    let csv = "sensor,celsius,battery
greenhouse, 21.5, 88
cellar,12.0,15

attic,hot,70
shed,4.5
,3.0,50
garage,9.5,40,extra
porch,-2.0,9
vent
boiler,60.0,300
";
    let (good, errors) = import(csv);
    assert_eq!(good.len(), 3);
    assert_eq!(good[0], Reading { sensor: "greenhouse".to_string(), celsius: 21.5, battery: 88 });
    assert_eq!(average(&good), Some(10.5));
    assert_eq!(average(&[]), None);
    assert_eq!(low_battery(&good, 20), vec!["cellar", "porch"]);

    assert_eq!(errors.len(), 6);
    assert_eq!(errors[0], "line 5: bad temperature \"hot\"");
    assert_eq!(errors[1], "line 6: missing battery column");
    assert_eq!(errors[2], "line 7: empty sensor name");
    assert!(errors[3].starts_with("line 8: too many columns"));
    assert!(errors[4].starts_with("line 10: "));
    assert!(errors[5].starts_with("line 11: bad battery level"));
    for e in &errors {
        println!("skipped {e}");
    }
}
