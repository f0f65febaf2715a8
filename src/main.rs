fn main() -> std::process::ExitCode {
    kubectl_ds::main_with_args(std::env::args_os().collect())
}
