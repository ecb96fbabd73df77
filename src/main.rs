//! The perfgate binary: parse, dispatch, map errors to exit code 2.

use std::io::Write;

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
    let (global, command) = cli.into_plan();
    let code = match perfgate::cmd::run(global, command) {
        Ok(code) => code,
        Err(e) => {
            // One line, whatever the file said: control characters are shown, not obeyed.
            let line = perfgate::report::terminal_safe(&format!("perfgate: error: {e}"));
            let _ = writeln!(std::io::stderr(), "{line}");
            perfgate::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
