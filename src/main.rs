use clap::Parser;
use gatehouse::cli::{self, Cli};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    if let Err(err) = cli::run(cli).await {
        eprintln!("error: {err}");
        std::process::exit(err.exit_code());
    }
}
