struct Version {
    major: u32,
    minor: u32,
    patch: u32,
}

impl Version {
    fn parse(s: &str) -> Version {
        let mut it = s.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
        Version {
            major: it.next().unwrap_or(0),
            minor: it.next().unwrap_or(0),
            patch: it.next().unwrap_or(0),
        }
    }
}

fn main() {
    let lock = [("serde", "1.0.197"), ("rand", "0.8.5"), ("log", "0.4.21")];
    let installed = [("serde", "1.0.197"), ("rand", "0.8.4"), ("log", "0.4.21")];

    let mut stale = 0;
    for ((name, want), (_, have)) in lock.iter().zip(installed.iter()) {
        let (want, have) = (Version::parse(want), Version::parse(have));
        if want == have {
            continue;
        }
        stale += 1;
        println!("{name}: have {}.{}.{}, lockfile wants {}.{}.{}",
                 have.major, have.minor, have.patch, want.major, want.minor, want.patch);
    }
    println!("{stale} package(s) out of date");
}
