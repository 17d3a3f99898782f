//! The listener's secrets: generated on first run, kept in the data folder.
//!
//! Each secret is 32 bytes (256 bits) from the operating system's random
//! number generator, written as 64 hex digits to its own file with mode
//! 0600 (on Unix). `WEBHOOK_SECRET`, when set, replaces the stored webhook
//! secret.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use tracing::warn;

/// The file names inside the data folder.
pub const HOOK_TOKEN_FILE: &str = "hook_token";
pub const WEBHOOK_SECRET_FILE: &str = "webhook_secret";
pub const API_TOKEN_FILE: &str = "api_token";

/// Shortest stored secret accepted, in hex digits (128 bits).
const MIN_HEX_DIGITS: usize = 32;

/// Errors reading or creating a secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read secret file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write secret file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "secret file {path} does not hold at least {MIN_HEX_DIGITS} hex digits; \
         delete it and restart to generate a new one"
    )]
    Invalid { path: PathBuf },
    #[error("the operating system's random number generator failed: {0}")]
    Random(String),
}

/// Returns a new secret: 32 random bytes as lowercase hex.
pub fn generate() -> Result<String, SecretError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| SecretError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Loads the secret in `dir/name`, creating it when absent or when `rotate` is set.
/// Returns the secret and whether it was newly written.
pub fn load_or_create(dir: &Path, name: &str, rotate: bool) -> Result<(String, bool), SecretError> {
    let path = dir.join(name);
    if !rotate {
        match fs::read_to_string(&path) {
            Ok(text) => return check(&path, text.trim()).map(|s| (s, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => return Err(SecretError::Read { path, source }),
        }
    }
    let secret = generate()?;
    write_private(&path, &secret).map_err(|source| SecretError::Write { path, source })?;
    Ok((secret, true))
}

fn check(path: &Path, text: &str) -> Result<String, SecretError> {
    let valid = text.len() >= MIN_HEX_DIGITS && text.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return Err(SecretError::Invalid {
            path: path.to_path_buf(),
        });
    }
    warn_if_readable_by_others(path);
    Ok(text.to_string())
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            warn!(path = %path.display(), "secret file is readable by other users; run chmod 600 on it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

/// Writes `secret` through a temporary file created with mode 0600, then renames it.
fn write_private(path: &Path, secret: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let temp = path.with_extension("tmp");
    let _ = fs::remove_file(&temp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&temp)?;
    file.write_all(secret.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    fs::rename(&temp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_64_hex_digits() {
        let secret = generate().unwrap();
        assert_eq!(secret.len(), 64);
        assert!(secret.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn secret_persists_across_loads() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = load_or_create(dir.path(), HOOK_TOKEN_FILE, false).unwrap();
        let (second, created_again) = load_or_create(dir.path(), HOOK_TOKEN_FILE, false).unwrap();
        assert!(created);
        assert!(!created_again);
        assert_eq!(first, second);
    }

    #[test]
    fn rotate_replaces_secret() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = load_or_create(dir.path(), HOOK_TOKEN_FILE, false).unwrap();
        let (second, _) = load_or_create(dir.path(), HOOK_TOKEN_FILE, true).unwrap();
        assert_ne!(first, second);
    }

    #[cfg(unix)]
    #[test]
    fn secret_file_mode_is_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        load_or_create(dir.path(), API_TOKEN_FILE, false).unwrap();
        let mode = fs::metadata(dir.path().join(API_TOKEN_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn short_secret_rejected() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(API_TOKEN_FILE), "abc").unwrap();
        let err = load_or_create(dir.path(), API_TOKEN_FILE, false).unwrap_err();
        assert!(matches!(err, SecretError::Invalid { .. }), "{err}");
    }
}
