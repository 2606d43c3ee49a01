//! `opg`: the opg keeper and simulator. See `opg --help`.
fn main() -> std::process::ExitCode {
    match opg_keeper::cli::main() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
