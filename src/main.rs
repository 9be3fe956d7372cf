use clap::Parser;
use gatehouse::cli::{self, Cli};

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(err) = cli::run(cli).await {
        eprintln!("error: {err}");
        std::process::exit(err.exit_code());
    }
}
