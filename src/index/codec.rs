//! The byte encoding of index files: LEB128 variable-length integers,
//! length-prefixed byte strings, and a CRC-32 footer that proves a file was
//! written completely.

use super::IndexError;

/// Appends values to a byte buffer.
#[derive(Default)]
pub(crate) struct Writer {
    pub bytes: Vec<u8>,
}

impl Writer {
    pub fn varint(&mut self, mut value: u64) {
        while value >= 0x80 {
            self.bytes.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.bytes.push(value as u8);
    }

    /// Writes a signed value in zigzag form, so small negatives stay short.
    pub fn signed(&mut self, value: i64) {
        self.varint(((value << 1) ^ (value >> 63)) as u64);
    }

    pub fn bytes(&mut self, data: &[u8]) {
        self.varint(data.len() as u64);
        self.bytes.extend_from_slice(data);
    }

    pub fn text(&mut self, text: &str) {
        self.bytes(text.as_bytes());
    }

    /// Appends the CRC-32 of everything written so far, little-endian.
    pub fn finish(mut self) -> Vec<u8> {
        let checksum = crc32fast::hash(&self.bytes);
        self.bytes.extend_from_slice(&checksum.to_le_bytes());
        self.bytes
    }
}

/// Reads values back from a buffer; every read fails on truncated input.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pub at: usize,
    /// The file being read, for error messages.
    path: &'a str,
}

impl<'a> Reader<'a> {
    /// Checks the CRC-32 footer and returns a reader over the content before it.
    pub fn verified(bytes: &'a [u8], path: &'a str) -> Result<Self, IndexError> {
        let corrupt = |reason: &str| IndexError::Corrupt {
            path: path.into(),
            reason: reason.to_string(),
        };
        let split = bytes
            .len()
            .checked_sub(4)
            .ok_or_else(|| corrupt("file shorter than its checksum"))?;
        let (content, footer) = bytes.split_at(split);
        let expected = u32::from_le_bytes(footer.try_into().expect("footer is 4 bytes"));
        if crc32fast::hash(content) != expected {
            return Err(corrupt("checksum mismatch (the file was cut short or changed)"));
        }
        Ok(Reader {
            bytes: content,
            at: 0,
            path,
        })
    }

    fn corrupt(&self, reason: &str) -> IndexError {
        IndexError::Corrupt {
            path: self.path.into(),
            reason: format!("{reason} at byte {}", self.at),
        }
    }

    pub fn varint(&mut self) -> Result<u64, IndexError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .bytes
                .get(self.at)
                .ok_or_else(|| self.corrupt("truncated integer"))?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(self.corrupt("integer longer than 64 bits"))
    }

    pub fn signed(&mut self) -> Result<i64, IndexError> {
        let raw = self.varint()?;
        Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
    }

    pub fn u32(&mut self) -> Result<u32, IndexError> {
        u32::try_from(self.varint()?).map_err(|_| self.corrupt("value above u32"))
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], IndexError> {
        let len = self.varint()? as usize;
        let end = self
            .at
            .checked_add(len)
            .filter(|end| *end <= self.bytes.len())
            .ok_or_else(|| self.corrupt("truncated byte string"))?;
        let data = &self.bytes[self.at..end];
        self.at = end;
        Ok(data)
    }

    pub fn text(&mut self) -> Result<&'a str, IndexError> {
        let data = self.bytes()?;
        std::str::from_utf8(data).map_err(|_| self.corrupt("invalid UTF-8"))
    }

    pub fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let mut writer = Writer::default();
        writer.varint(0);
        writer.varint(300);
        writer.varint(u64::MAX);
        writer.signed(-5);
        writer.signed(i64::MIN);
        writer.text("héllo");
        let bytes = writer.finish();

        let mut reader = Reader::verified(&bytes, "x").unwrap();
        assert_eq!(reader.varint().unwrap(), 0);
        assert_eq!(reader.varint().unwrap(), 300);
        assert_eq!(reader.varint().unwrap(), u64::MAX);
        assert_eq!(reader.signed().unwrap(), -5);
        assert_eq!(reader.signed().unwrap(), i64::MIN);
        assert_eq!(reader.text().unwrap(), "héllo");
        assert!(reader.is_done());
    }

    #[test]
    fn truncated_file_fails_checksum() {
        let mut writer = Writer::default();
        writer.text("some content");
        let bytes = writer.finish();
        let error = Reader::verified(&bytes[..bytes.len() - 1], "seg").err().unwrap();
        assert!(error.to_string().contains("checksum mismatch"), "{error}");
    }

    #[test]
    fn short_string_is_corrupt() {
        let mut writer = Writer::default();
        writer.varint(10);
        writer.bytes.extend_from_slice(b"abc");
        let bytes = writer.finish();
        let mut reader = Reader::verified(&bytes, "seg").unwrap();
        assert!(reader.bytes().is_err());
    }
}
