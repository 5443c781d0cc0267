#[derive(Debug, Clone)]
struct ServerConfig {
    host: String,
    port: u16,
    workers: usize,
    verbose: bool,
}

impl ServerConfig {
    fn production() -> Self {
        ServerConfig {
            host: "api.example.com".to_owned(),
            port: 443,
            workers: 16,
            verbose: false,
        }
    }
}

fn main() {
    let prod = ServerConfig::production();

    let mut staging = prod.clone();
    staging.host = "staging.example.com".to_owned();
    staging.workers = 2;
    staging.verbose = true;

    for cfg in [&prod, &staging] {
        println!("{}:{} x{} verbose={}", cfg.host, cfg.port, cfg.workers, cfg.verbose);
    }
    println!("{:#?}", staging);
}
