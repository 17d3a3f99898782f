//! The data folder: where the database and the listener's secrets live.
//!
//! `ARGUS_DATA_DIR` (or `argus serve --data-dir`) overrides it; otherwise it
//! follows the platform's conventions through the `directories` crate:
//! `$XDG_DATA_HOME/argus` (usually `~/.local/share/argus`) on Linux,
//! `~/Library/Application Support/dev.argus.argus` on macOS and
//! `%APPDATA%\argus\argus\data` on Windows.

use std::path::{Path, PathBuf};

/// The database's file name inside the data folder.
pub const DATABASE_FILE: &str = "argus.db";

/// Returns the data folder: `explicit` if given, else `ARGUS_DATA_DIR`, else
/// the platform's per-user data folder, else `./argus-data`.
pub fn data_dir(explicit: Option<&Path>) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_path_buf();
    }
    if let Some(path) = std::env::var_os("ARGUS_DATA_DIR").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    directories::ProjectDirs::from("dev", "argus", "argus")
        .map(|dirs| dirs.data_dir().to_path_buf())
        .unwrap_or_else(|| PathBuf::from("argus-data"))
}

/// Returns the database path inside a data folder.
pub fn database_path(data_dir: &Path) -> PathBuf {
    data_dir.join(DATABASE_FILE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_dir_wins() {
        assert_eq!(data_dir(Some(Path::new("/tmp/x"))), PathBuf::from("/tmp/x"));
    }

    #[test]
    fn database_inside_data_dir() {
        assert_eq!(database_path(Path::new("/d")), PathBuf::from("/d/argus.db"));
    }
}
