//! `opg`: the opg keeper and simulator. See `opg --help`.
fn main() -> std::process::ExitCode {
    opg_keeper::cli::main()
}
