fn main() -> std::process::ExitCode {
    siprems::cli::main()
}
