use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = modelgate::cli::Cli::parse();
    match modelgate::app::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("modelgate: error: {e}");
            ExitCode::from(2)
        }
    }
}
