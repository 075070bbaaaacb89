//! The `burnbox` binary: everything lives in the library; see `burnbox --help`.

/// mimalloc instead of the system allocator: a request allocates and frees many small buffers
/// across threads, which glibc's malloc serves slowly. Built with `no_thp`, so the kernel does
/// not zero fresh 2 MiB arena pages on first touch inside the store's writer thread. The profiles
/// behind both: `docs/decisions/0002-mimalloc-without-transparent-huge-pages.md`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    burnbox::cli::run().await
}
