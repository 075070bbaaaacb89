//! The `burnbox` binary: everything lives in the library; see `burnbox --help`.

/// mimalloc instead of the system allocator: a request allocates and frees many small buffers
/// across threads, which glibc's malloc served at about a sixth of the request path's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    burnbox::cli::run().await
}
