//! The `burnbox` binary: everything lives in the library; see `burnbox --help`.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    burnbox::cli::run().await
}
