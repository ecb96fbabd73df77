//! The perfgate binary: parse, dispatch, map errors to exit code 2.

use std::io::Write;

use clap::Parser;
use perfgate::cmd::console;

/// Rust's exit code for a panic, kept for a panic caught to resume workflow commands.
const EXIT_PANIC: i32 = 101;

fn main() {
    // Under GitHub Actions the runner's command processing is stopped while perfgate prints
    // (see `console`), and `std::process::exit` runs no destructors: resume here, whatever
    // happened, panics included (the panic's message is printed while still stopped).
    let code = std::panic::catch_unwind(run).unwrap_or(EXIT_PANIC);
    console::end();
    std::process::exit(code);
}

/// Everything but the exit, so that `main` resumes workflow commands on every way out.
fn run() -> i32 {
    // Exit code 2 for usage errors too, as documented (clap's own default is 2 as well).
    let cli = match perfgate::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // The message quotes the command line, which a workflow may build from its inputs.
            console::begin(console::Stream::Stderr);
            let _ = e.print();
            return if e.use_stderr() {
                perfgate::EXIT_ERROR
            } else {
                perfgate::EXIT_PASS
            };
        }
    };
    let (global, command) = cli.into_plan();
    console::begin(perfgate::cmd::command_stream(&command));
    match perfgate::cmd::run(global, command) {
        Ok(code) => code,
        Err(e) => {
            // Control characters from a file are shown, not obeyed. Only a failing command's
            // quoted output (the last lines of its log) spans several lines.
            let text = format!("perfgate: error: {e}");
            let lines: Vec<String> = text.lines().map(perfgate::report::terminal_safe).collect();
            let _ = writeln!(std::io::stderr(), "{}", lines.join("\n"));
            perfgate::EXIT_ERROR
        }
    }
}
