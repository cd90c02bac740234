//! Reading a file the user named (a config, a fleet): only a regular file, only up to a size
//! cap. A FIFO with no writer, a device such as `/dev/zero` or `/proc/kmsg`, or a 100 MB file
//! is refused at once with a message, never read (opening a FIFO would block).

use std::io::Read;
use std::path::Path;

/// Largest config or fleet file read (1 MB is generous for hand-written TOML).
pub const MAX_BYTES: u64 = 1024 * 1024;

/// Why a file could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// No such file.
    NotFound,
    /// Anything else, worded for a person.
    Other(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("no such file"),
            ReadError::Other(m) => f.write_str(m),
        }
    }
}

/// The whole text of the regular file at `path`, at most `max` bytes.
pub fn read(path: &Path, max: u64) -> Result<String, ReadError> {
    String::from_utf8(read_bytes(path, max)?)
        .map_err(|_| ReadError::Other("it is not UTF-8 text".into()))
}

/// The whole content of the regular file at `path`, at most `max` bytes.
pub fn read_bytes(path: &Path, max: u64) -> Result<Vec<u8>, ReadError> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ReadError::NotFound,
        _ => ReadError::Other(format!("cannot read the file: {e}")),
    })?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a pipe, socket or device)"
        };
        return Err(ReadError::Other(format!(
            "it is {what}; name a regular file"
        )));
    }
    if meta.len() > max {
        return Err(ReadError::Other(format!(
            "it is {} bytes; at most {max} are read",
            meta.len()
        )));
    }
    let mut data = Vec::with_capacity(meta.len() as usize);
    // The cap holds even if the file grows between the check and the read.
    std::fs::File::open(path)
        .and_then(|f| f.take(max + 1).read_to_end(&mut data))
        .map_err(|e| ReadError::Other(format!("cannot read the file: {e}")))?;
    if data.len() as u64 > max {
        return Err(ReadError::Other(format!("it is over {max} bytes")));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_directories_and_large_files_are_refused_without_reading() {
        assert_eq!(
            read(Path::new("/no/such/file"), MAX_BYTES),
            Err(ReadError::NotFound)
        );
        for p in ["/dev/zero", "/dev/null", "/tmp"] {
            assert!(
                matches!(read(Path::new(p), MAX_BYTES), Err(ReadError::Other(_))),
                "{p}"
            );
        }
        let dir = std::env::temp_dir().join(format!("switchyard-small-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.toml");
        std::fs::write(&big, vec![b'#'; 2000]).unwrap();
        assert!(matches!(read(&big, 1000), Err(ReadError::Other(m)) if m.contains("2000 bytes")));
        assert_eq!(read(&big, 4000).unwrap().len(), 2000);
        // A FIFO with no writer: refused at once (opening it would block).
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            assert!(
                matches!(read(&fifo, MAX_BYTES), Err(ReadError::Other(m)) if m.contains("not a regular file"))
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
