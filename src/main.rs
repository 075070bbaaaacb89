//! The `burnbox` binary: everything lives in the library; see `burnbox --help`.

/// mimalloc instead of the system allocator: a request allocates and frees many small buffers
/// across threads, which glibc's malloc served at about a sixth of the request path's CPU. Built
/// with `no_thp`: with transparent huge pages mimalloc's fresh arena pages were 2 MiB, zeroed by the
/// kernel on first touch inside the store's writer thread (~4 % of a create's CPU, and p99 spikes).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    burnbox::cli::run().await
}
