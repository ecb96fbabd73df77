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
            // Control characters from a file are shown, not obeyed. Only a failing command's
            // quoted output (the last lines of its log) spans several lines.
            let text = format!("perfgate: error: {e}");
            let lines: Vec<String> = text.lines().map(perfgate::report::terminal_safe).collect();
            let _ = writeln!(std::io::stderr(), "{}", lines.join("\n"));
            perfgate::EXIT_ERROR
        }
    };
    std::process::exit(code);
}
