fn parse_port(raw: &str) -> Result<u16, String> {
    let port: u16 = raw
        .trim()
        .parse()
        .map_err(|e| format!("bad port {raw:?}: {e}"))?;
    if port < 1024 {
        return Err(format!("port {port} is privileged"));
    }
    port
}

fn main() {
    let services = ["web= 8080", "ssh=22", "metrics=9100", "broken=80x"];
    for entry in services {
        let (name, raw) = entry.split_once('=').unwrap();
        match parse_port(raw) {
            Ok(p) => println!("{name:>8} listens on {p}"),
            Err(e) => println!("{name:>8} rejected: {e}"),
        }
    }
}
