//! Gzip-compressed evidence: any supported format inside a `.gz` file (or a
//! gzip stream under any name), detected by the gzip magic bytes. Files of
//! several concatenated gzip members, as `cat a.gz b.gz` writes, decode as
//! one.

use std::io::Read;

use flate2::read::MultiGzDecoder;

/// The first two bytes of a gzip member (RFC 1952).
const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Returns whether `bytes` start with the gzip magic bytes.
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Decompresses a whole gzip file into memory, or returns why it failed.
///
/// NOTE: the decompressed content is held in memory whole, like every other
/// evidence file, so a very large or maliciously crafted archive can exhaust
/// memory.
pub(crate) fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut inner = Vec::with_capacity(bytes.len().saturating_mul(4));
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut inner)
        .map_err(|err| format!("invalid gzip data: {err}"))?;
    Ok(inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn round_trip_decodes() {
        let packed = gzip(b"hello\n");
        assert!(is_gzip(&packed));
        assert_eq!(gunzip(&packed).unwrap(), b"hello\n");
    }

    #[test]
    fn concatenated_members_decode() {
        let mut packed = gzip(b"a\n");
        packed.extend(gzip(b"b\n"));
        assert_eq!(gunzip(&packed).unwrap(), b"a\nb\n");
    }

    #[test]
    fn truncated_stream_fails() {
        let packed = gzip(b"some text that compresses\n");
        let error = gunzip(&packed[..packed.len() / 2]).unwrap_err();
        assert!(error.starts_with("invalid gzip data"), "{error}");
    }
}
