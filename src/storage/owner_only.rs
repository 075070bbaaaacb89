//! Files and folders of the store that only burnbox's own user may open, whatever the umask
//! the process started with: sealed contents are useless without the master key, but the names,
//! sizes and times of the records are nobody else's business either.

use std::io;
use std::path::Path;

/// Mode of the store's folders.
pub const DIR_MODE: u32 = 0o700;
/// Mode of the store's files.
pub const FILE_MODE: u32 = 0o600;

/// Creates `path` and its missing parents with [`DIR_MODE`], and sets `path` itself to it if it
/// existed with a wider one.
///
/// # Errors
/// When a folder cannot be created or its mode set.
pub fn create_dir_all(path: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(path)?;
    narrow(path, DIR_MODE)
}

/// Takes away the group's and other users' access to `path` (to `mode` at most), leaving it as
/// it is when it has none.
///
/// # Errors
/// When the mode cannot be read or set.
pub fn narrow(path: &Path, mode: u32) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
        if current & !mode != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(current & mode))?;
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("exists")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn folders_are_private_whether_new_or_found_open() {
        let root = tempfile::tempdir().expect("temp dir");
        let nested = root.path().join("a").join("b");
        create_dir_all(&nested).expect("created");
        assert_eq!(mode(&nested), DIR_MODE);
        assert_eq!(mode(&root.path().join("a")), DIR_MODE);
        let open = root.path().join("open");
        std::fs::create_dir(&open).expect("created");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        create_dir_all(&open).expect("exists");
        assert_eq!(mode(&open), DIR_MODE);
    }

    #[test]
    fn narrowing_only_takes_away() {
        let root = tempfile::tempdir().expect("temp dir");
        let file = root.path().join("f");
        std::fs::write(&file, b"x").expect("written");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        narrow(&file, FILE_MODE).expect("narrowed");
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o400)).expect("chmod");
        narrow(&file, FILE_MODE).expect("narrowed");
        assert_eq!(mode(&file), 0o400, "never widened");
    }
}
