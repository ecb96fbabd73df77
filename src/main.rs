//! The perfgate binary: parse, dispatch, map errors to exit code 2.

use clap::Parser;

fn main() {
    // Exit code 2 for usage errors too, as documented (clap's own default is 2 as well).
    let cli = match perfgate::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                perfgate::EXIT_ERROR
            } else {
                perfgate::EXIT_PASS
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let code = match perfgate::app::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("perfgate: error: {e}");
            perfgate::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
