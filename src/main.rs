use clap::Parser;
use gatehouse::cli::{self, Cli};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    // Commands asked for JSON report their errors as JSON too.
    let json = std::env::args().any(|a| a == "--json");
    if let Err(err) = cli::run(cli).await {
        if json {
            let body = serde_json::json!({
                "error": err.to_string(),
                "exit_code": err.exit_code(),
            });
            eprintln!("{body}");
        } else {
            eprintln!("error: {err}");
        }
        std::process::exit(err.exit_code());
    }
}
