#[derive(Debug)]
struct ServerConfig {
    host: String,
    port: u16,
    workers: usize,
    verbose: bool,
}

impl ServerConfig {
    fn from_pairs(pairs: &[(&str, &str)]) -> Result<ServerConfig, String> {
        let mut host = String::from("127.0.0.1");
        let mut port = 8080;
        let mut workers = 4;
        for (key, value) in pairs {
            match *key {
                "host" => host = value.to_string(),
                "port" => port = value.parse().map_err(|_| format!("bad port: {value}"))?,
                "workers" => workers = value.parse().map_err(|_| format!("bad workers: {value}"))?,
                other => return Err(format!("unknown key: {other}")),
            }
        }
        Ok(ServerConfig { host, port, workers, verbose: false })
    }
}

fn main() {
    match ServerConfig::from_pairs(&[("host", "0.0.0.0"), ("port", "9000")]) {
        Ok(cfg) => {
            println!("listening on {}:{} with {} workers", cfg.host, cfg.port, cfg.workers);
            if cfg.verbose {
                println!("{:#?}", cfg);
            }
        }
        Err(e) => eprintln!("config error: {e}"),
    }
}
