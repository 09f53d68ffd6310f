//! Snapshots — the whole state at one revision, history included, in one checksummed file —
//! and the lock that keeps a second store off an open data directory.
//!
//! # Snapshot file
//! ```text
//! magic      8 bytes  "KNAUTSNP"
//! version    u32 LE   format version (1)
//! revision   i64 LE   the revision the snapshot is taken at
//! compacted  i64 LE   the compaction point (0 <= compacted <= revision)
//! key count  u64 LE
//! per key, in strictly ascending key order:
//!   key len u32 LE | key (UTF-8) | version count u32 LE
//!   per version, oldest first (strictly ascending mod_revision <= revision):
//!     create_revision i64 | mod_revision i64 | version i64 | lease i64 (all LE)
//!     flag u8 (0 = tombstone, 1 = value) | value: len u32 LE + bytes (flag 1 only)
//! crc        u32 LE   CRC-32C of every byte before it
//! ```
//! Files are written to `<name>.tmp`, synced, renamed into place and the directory synced, so
//! a crash leaves either the old file or the complete new one. In a data directory snapshots
//! are named `snap-<revision, 16 hex digits>.snap`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use crate::error::StoreError;
use crate::types::Revision;

/// The first bytes of every snapshot file.
const MAGIC: &[u8; 8] = b"KNAUTSNP";
/// The format version this code writes and reads.
const FORMAT_VERSION: u32 = 1;
/// Magic, format version, revision, compacted, key count.
const HEADER_BYTES: u64 = 8 + 4 + 8 + 8 + 8;
/// The checksum at the end.
const TRAILER_BYTES: u64 = 4;
/// The smallest encoded key: key length and version count.
const MIN_KEY_BYTES: u64 = 4 + 4;
/// The smallest encoded version: four integers and the flag.
const MIN_VERSION_BYTES: u64 = 4 * 8 + 1;
/// Value flag of a deletion.
const TOMBSTONE: u8 = 0;
/// Value flag of a version with a value.
const VALUE: u8 = 1;
/// The name of the lock file in a data directory.
const LOCK_FILE: &str = "LOCK";

/// One version of a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SnapshotVersion {
    /// Revision of the write that created the key (its current incarnation).
    pub create_revision: Revision,
    /// Revision of this version's write.
    pub mod_revision: Revision,
    /// Writes to the key since its creation.
    pub version: i64,
    /// Attached lease; 0 for none.
    pub lease: i64,
    /// The value; `None` for a deletion (tombstone).
    pub value: Option<Bytes>,
}

/// A key and its versions since the compaction point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SnapshotKey {
    /// The key.
    pub key: Arc<str>,
    /// Its versions, oldest first.
    pub versions: Vec<SnapshotVersion>,
}

/// The content of a snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SnapshotData {
    /// The revision the snapshot is taken at: it reflects every write up to it.
    pub revision: Revision,
    /// The compaction point.
    pub compacted: Revision,
    /// Every key with retained versions, in ascending key order.
    pub keys: Vec<SnapshotKey>,
}

/// The file name of the snapshot at `revision` in a data directory.
fn snapshot_name(revision: Revision) -> String {
    format!("snap-{revision:016x}.snap")
}

/// The revision of a snapshot file name; `None` for any other name.
fn parse_snapshot_name(name: &str) -> Option<Revision> {
    let hex = name.strip_prefix("snap-")?.strip_suffix(".snap")?;
    if hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    i64::try_from(u64::from_str_radix(hex, 16).ok()?).ok()
}

/// A closure building an I/O error on `path`.
fn io_err<'p>(op: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> StoreError + 'p {
    move |e| StoreError::io(op, path, e)
}

/// A `Corrupt` error at `offset` of `path`.
fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        file: path.to_path_buf(),
        offset,
        reason: reason.into(),
    }
}

/// Fsyncs the directory holding `path` (`.` for a bare file name).
fn sync_parent(path: &Path) -> Result<(), StoreError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("fsync directory", dir))
}

/// Writes `data` as `snap-<revision>.snap` in `dir`: a temp file, fsync, rename, fsync of the
/// directory. Returns the snapshot's path.
///
/// # Errors
/// `InvalidArgument` when keys or versions are out of order; `Io`.
pub(crate) fn write_snapshot(dir: &Path, data: &SnapshotData) -> Result<PathBuf, StoreError> {
    let path = dir.join(snapshot_name(data.revision));
    write_snapshot_file(&path, data)?;
    Ok(path)
}

/// Writes `data` at `path` in the snapshot format (for backups), through a temp file next to
/// it (`<path>.tmp`) renamed into place, with the file and its directory synced.
///
/// # Errors
/// `InvalidArgument` when keys or versions are out of order; `Io`.
pub(crate) fn write_snapshot_file(path: &Path, data: &SnapshotData) -> Result<(), StoreError> {
    check_order(data)?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    let result = write_to(&tmp, data)
        .and_then(|()| fs::rename(&tmp, path).map_err(io_err("rename", &tmp)))
        .and_then(|()| sync_parent(path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Refuses data the reader would reject: keys not strictly ascending, versions not strictly
/// ascending by `mod_revision`, revisions out of range.
fn check_order(data: &SnapshotData) -> Result<(), StoreError> {
    let bad = |reason: String| Err(StoreError::InvalidArgument(format!("snapshot: {reason}")));
    if data.compacted < 0 || data.compacted > data.revision {
        return bad(format!(
            "compacted {} outside 0..={}",
            data.compacted, data.revision
        ));
    }
    let mut prev_key: Option<&str> = None;
    for k in &data.keys {
        if prev_key.is_some_and(|p| p >= &*k.key) {
            return bad(format!("key {:?} out of order", k.key));
        }
        prev_key = Some(&k.key);
        let mut prev_mod = 0;
        for v in &k.versions {
            if v.mod_revision <= prev_mod || v.mod_revision > data.revision {
                return bad(format!(
                    "version at {} of key {:?} out of order",
                    v.mod_revision, k.key
                ));
            }
            prev_mod = v.mod_revision;
        }
    }
    Ok(())
}

/// A buffered writer that checksums what goes through it, a whole buffer at a time.
struct CrcWriter<W> {
    inner: W,
    buf: Vec<u8>,
    crc: u32,
}

/// How much [`CrcWriter`] buffers before it checksums and writes.
const CRC_WRITER_BUFFER: usize = 1 << 20;

impl<W: Write> CrcWriter<W> {
    /// Writes and checksums `bytes`.
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.buf.len() + bytes.len() > CRC_WRITER_BUFFER {
            self.drain()?;
        }
        if bytes.len() >= CRC_WRITER_BUFFER {
            self.crc = crc32c::crc32c_append(self.crc, bytes);
            return self.inner.write_all(bytes);
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Checksums and writes what is buffered.
    fn drain(&mut self) -> io::Result<()> {
        self.crc = crc32c::crc32c_append(self.crc, &self.buf);
        self.inner.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Writes a length as u32 LE (an error beyond u32).
    fn put_len(&mut self, len: usize) -> io::Result<()> {
        let len = u32::try_from(len).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("length {len} exceeds u32"),
            )
        })?;
        self.put(&len.to_le_bytes())
    }
}

/// Writes the snapshot file at `tmp` and syncs it.
fn write_to(tmp: &Path, data: &SnapshotData) -> Result<(), StoreError> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(tmp)
        .map_err(io_err("create", tmp))?;
    let mut w = CrcWriter {
        inner: file,
        buf: Vec::with_capacity(CRC_WRITER_BUFFER),
        crc: 0,
    };
    let body = |w: &mut CrcWriter<File>| -> io::Result<()> {
        w.put(MAGIC)?;
        w.put(&FORMAT_VERSION.to_le_bytes())?;
        w.put(&data.revision.to_le_bytes())?;
        w.put(&data.compacted.to_le_bytes())?;
        w.put(&(data.keys.len() as u64).to_le_bytes())?;
        for k in &data.keys {
            w.put_len(k.key.len())?;
            w.put(k.key.as_bytes())?;
            w.put_len(k.versions.len())?;
            for v in &k.versions {
                w.put(&v.create_revision.to_le_bytes())?;
                w.put(&v.mod_revision.to_le_bytes())?;
                w.put(&v.version.to_le_bytes())?;
                w.put(&v.lease.to_le_bytes())?;
                match &v.value {
                    None => w.put(&[TOMBSTONE])?,
                    Some(value) => {
                        w.put(&[VALUE])?;
                        w.put_len(value.len())?;
                        w.put(value)?;
                    }
                }
            }
        }
        w.drain()?;
        let crc = w.crc;
        w.inner.write_all(&crc.to_le_bytes())?;
        w.inner.flush()
    };
    body(&mut w).map_err(io_err("write", tmp))?;
    w.inner.sync_all().map_err(io_err("fsync", tmp))
}

/// A bounds-checked, checksum-free reader over a snapshot file whose checksum has already been
/// verified.
struct SnapReader<'p> {
    inner: BufReader<File>,
    path: &'p Path,
    /// Offset of the next byte.
    offset: u64,
    /// Offset of the trailer: nothing is read past it.
    end: u64,
}

impl SnapReader<'_> {
    /// Bytes left before the trailer.
    fn remaining(&self) -> u64 {
        self.end - self.offset
    }

    /// The next `n` bytes (`what` names them in errors).
    fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>, StoreError> {
        if n > self.remaining() {
            return Err(corrupt(
                self.path,
                self.offset,
                format!("{what} of {n} bytes extends past the end of the snapshot"),
            ));
        }
        let mut buf = vec![0; usize::try_from(n).unwrap_or(usize::MAX)];
        self.inner
            .read_exact(&mut buf)
            .map_err(io_err("read", self.path))?;
        self.offset += n;
        Ok(buf)
    }

    /// The next `N` bytes, as an array.
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], StoreError> {
        let bytes = self.bytes(N as u64, what)?;
        let mut out = [0; N];
        out.copy_from_slice(&bytes);
        Ok(out)
    }

    /// A byte.
    fn u8(&mut self, what: &str) -> Result<u8, StoreError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// A u32 LE.
    fn u32(&mut self, what: &str) -> Result<u32, StoreError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    /// A u64 LE.
    fn u64(&mut self, what: &str) -> Result<u64, StoreError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// An i64 LE.
    fn i64(&mut self, what: &str) -> Result<i64, StoreError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    /// A revision: never negative.
    fn revision(&mut self, what: &str) -> Result<Revision, StoreError> {
        let at = self.offset;
        let r = self.i64(what)?;
        if r < 0 {
            return Err(corrupt(self.path, at, format!("negative {what} {r}")));
        }
        Ok(r)
    }
}

/// Reads a snapshot file, verifying its magic, format version and checksum, and the order of
/// its keys and versions.
///
/// # Errors
/// `Corrupt` with the offset of the first problem (the checksum's offset for a checksum
/// mismatch); `Io`.
pub(crate) fn read_snapshot(path: &Path) -> Result<SnapshotData, StoreError> {
    let mut file = File::open(path).map_err(io_err("open", path))?;
    let len = file.metadata().map_err(io_err("stat", path))?.len();
    if len < HEADER_BYTES + TRAILER_BYTES {
        return Err(corrupt(
            path,
            0,
            format!("{len} bytes is too short for a snapshot"),
        ));
    }
    let mut head = [0u8; 12];
    file.read_exact(&mut head).map_err(io_err("read", path))?;
    if &head[..8] != MAGIC {
        return Err(corrupt(path, 0, "not a snapshot file (bad magic)"));
    }
    let version = u32::from_le_bytes([head[8], head[9], head[10], head[11]]);
    if version != FORMAT_VERSION {
        return Err(corrupt(
            path,
            8,
            format!("unsupported snapshot format version {version} (expected {FORMAT_VERSION})"),
        ));
    }

    // Verify the checksum before trusting any length in the file.
    let end = len - TRAILER_BYTES;
    file.seek(SeekFrom::Start(0))
        .map_err(io_err("seek", path))?;
    let mut crc = 0;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = end;
    while left > 0 {
        let n = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        file.read_exact(&mut buf[..n])
            .map_err(io_err("read", path))?;
        crc = crc32c::crc32c_append(crc, &buf[..n]);
        left -= n as u64;
    }
    let mut trailer = [0u8; 4];
    file.read_exact(&mut trailer)
        .map_err(io_err("read", path))?;
    let stored = u32::from_le_bytes(trailer);
    if stored != crc {
        return Err(corrupt(
            path,
            end,
            format!("checksum mismatch: stored {stored:#010x}, computed {crc:#010x}"),
        ));
    }
    drop(buf);

    file.seek(SeekFrom::Start(12))
        .map_err(io_err("seek", path))?;
    let mut r = SnapReader {
        inner: BufReader::with_capacity(1 << 20, file),
        path,
        offset: 12,
        end,
    };
    let revision = r.revision("revision")?;
    let compacted_at = r.offset;
    let compacted = r.revision("compaction revision")?;
    if compacted > revision {
        return Err(corrupt(
            path,
            compacted_at,
            format!("compaction revision {compacted} after the snapshot revision {revision}"),
        ));
    }
    let count_at = r.offset;
    let count = r.u64("key count")?;
    if count > r.remaining() / MIN_KEY_BYTES {
        return Err(corrupt(
            path,
            count_at,
            format!("key count {count} exceeds the file"),
        ));
    }
    let mut keys: Vec<SnapshotKey> = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    for _ in 0..count {
        let key_at = r.offset;
        let key_len = r.u32("key length")?;
        let key = r.bytes(u64::from(key_len), "key")?;
        let key = String::from_utf8(key).map_err(|e| {
            corrupt(
                path,
                key_at,
                format!("key is not UTF-8: {}", e.utf8_error()),
            )
        })?;
        if keys.last().is_some_and(|prev| *prev.key >= *key) {
            return Err(corrupt(path, key_at, format!("key {key:?} out of order")));
        }
        let vcount_at = r.offset;
        let vcount = r.u32("version count")?;
        if u64::from(vcount) > r.remaining() / MIN_VERSION_BYTES {
            return Err(corrupt(
                path,
                vcount_at,
                format!("version count {vcount} exceeds the file"),
            ));
        }
        let mut versions: Vec<SnapshotVersion> =
            Vec::with_capacity(usize::try_from(vcount).unwrap_or(0));
        for _ in 0..vcount {
            let version_at = r.offset;
            let create_revision = r.revision("create revision")?;
            let mod_revision = r.revision("mod revision")?;
            let prev_mod = versions.last().map_or(0, |v| v.mod_revision);
            if mod_revision <= prev_mod || mod_revision > revision {
                return Err(corrupt(
                    path,
                    version_at,
                    format!("version at revision {mod_revision} of key {key:?} out of order"),
                ));
            }
            let version = r.i64("version")?;
            let lease = r.i64("lease")?;
            let flag_at = r.offset;
            let value = match r.u8("value flag")? {
                TOMBSTONE => None,
                VALUE => {
                    let value_len = r.u32("value length")?;
                    Some(Bytes::from(r.bytes(u64::from(value_len), "value")?))
                }
                other => {
                    return Err(corrupt(
                        path,
                        flag_at,
                        format!("unknown value flag {other}"),
                    ));
                }
            };
            versions.push(SnapshotVersion {
                create_revision,
                mod_revision,
                version,
                lease,
                value,
            });
        }
        keys.push(SnapshotKey {
            key: Arc::from(key),
            versions,
        });
    }
    if r.remaining() != 0 {
        return Err(corrupt(
            path,
            r.offset,
            format!("{} trailing bytes after the last key", r.remaining()),
        ));
    }
    Ok(SnapshotData {
        revision,
        compacted,
        keys,
    })
}

/// Snapshot files in `dir` with their revisions (and `.tmp` leftovers, flagged `true`).
fn list_snapshots(dir: &Path) -> Result<Vec<(Revision, PathBuf, bool)>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("read directory", dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_err("read directory", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let (name, tmp) = match name.strip_suffix(".tmp") {
            Some(base) => (base, true),
            None => (name, false),
        };
        if let Some(revision) = parse_snapshot_name(name) {
            out.push((revision, entry.path(), tmp));
        }
    }
    Ok(out)
}

/// The newest snapshot in `dir` (by the revision in its name), if any.
///
/// # Errors
/// `Io` when the directory cannot be read (a missing directory has no snapshot).
pub(crate) fn latest_snapshot(dir: &Path) -> Result<Option<PathBuf>, StoreError> {
    Ok(list_snapshots(dir)?
        .into_iter()
        .filter(|(_, _, tmp)| !tmp)
        .max_by_key(|(revision, _, _)| *revision)
        .map(|(_, path, _)| path))
}

/// Deletes the snapshots in `dir` older than `revision`, and unfinished temp files of such
/// snapshots.
///
/// # Errors
/// `Io`.
pub(crate) fn remove_snapshots_before(dir: &Path, revision: Revision) -> Result<(), StoreError> {
    let mut removed = false;
    for (rev, path, _) in list_snapshots(dir)? {
        if rev < revision {
            match fs::remove_file(&path) {
                Ok(()) => removed = true,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io("remove", &path, e)),
            }
        }
    }
    if removed {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err("fsync directory", dir))?;
    }
    Ok(())
}

/// The exclusive lock on a data directory; released when dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    /// The locked file: the lock lives as long as it is open.
    _file: File,
}

/// Takes the exclusive lock on `dir` (creating it and its `LOCK` file), for as long as the
/// store is open. The file records the holder's process id, for the error a second opener gets.
///
/// # Errors
/// `Unavailable` when another store (in this process or another) holds the lock; `Io`.
pub(crate) fn lock_dir(dir: &Path) -> Result<DirLock, StoreError> {
    fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io_err("open", &path))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let by = if holder.is_empty() {
                String::new()
            } else {
                format!(" by process {holder}")
            };
            return Err(StoreError::Unavailable {
                reason: format!(
                    "data directory {} is already in use{by} (lock file {} is held)",
                    dir.display(),
                    path.display()
                ),
                source: None,
            });
        }
        Err(fs::TryLockError::Error(e)) => return Err(StoreError::io("lock", &path, e)),
    }
    let pid = std::process::id().to_string();
    file.set_len(0)
        .and_then(|()| file.write_all(pid.as_bytes()))
        .map_err(io_err("write", &path))?;
    Ok(DirLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(create: Revision, modified: Revision, value: Option<&str>) -> SnapshotVersion {
        SnapshotVersion {
            create_revision: create,
            mod_revision: modified,
            version: modified - create + 1,
            lease: if modified % 2 == 0 { 0 } else { 7 },
            value: value.map(|v| Bytes::copy_from_slice(v.as_bytes())),
        }
    }

    fn sample() -> SnapshotData {
        SnapshotData {
            revision: 12,
            compacted: 3,
            keys: vec![
                SnapshotKey {
                    key: Arc::from("/registry/configmaps/default/a"),
                    versions: vec![
                        version(4, 4, Some("one")),
                        version(4, 6, Some("")),
                        version(4, 9, None),
                        version(11, 11, Some("back")),
                    ],
                },
                SnapshotKey {
                    key: Arc::from("/registry/pods/ns/ü"),
                    versions: vec![version(5, 5, None)],
                },
                SnapshotKey {
                    key: Arc::from("/z"),
                    versions: Vec::new(),
                },
            ],
        }
    }

    fn expect_corrupt(result: Result<SnapshotData, StoreError>) -> (PathBuf, u64, String) {
        match result {
            Err(StoreError::Corrupt {
                file,
                offset,
                reason,
            }) => (file, offset, reason),
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let data = sample();
        let path = write_snapshot(dir.path(), &data).unwrap();
        assert_eq!(path, dir.path().join("snap-000000000000000c.snap"));
        assert_eq!(read_snapshot(&path).unwrap(), data);
        assert!(!dir.path().join("snap-000000000000000c.snap.tmp").exists());
        // An empty store.
        let empty = SnapshotData {
            revision: 0,
            compacted: 0,
            keys: Vec::new(),
        };
        let path = write_snapshot(dir.path(), &empty).unwrap();
        assert_eq!(read_snapshot(&path).unwrap(), empty);
        // At a chosen path (a backup), over an older file.
        let backup = dir.path().join("backup.snap");
        fs::write(&backup, b"old").unwrap();
        write_snapshot_file(&backup, &data).unwrap();
        assert_eq!(read_snapshot(&backup).unwrap(), data);
    }

    #[test]
    fn round_trip_of_a_larger_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let keys = (0..2000)
            .map(|i| SnapshotKey {
                key: Arc::from(format!("/registry/pods/ns/{i:05}")),
                versions: (1..=3)
                    .map(|v| version(i * 3 + 1, i * 3 + v, Some(&"x".repeat(v as usize * 100))))
                    .collect(),
            })
            .collect();
        let data = SnapshotData {
            revision: 6000,
            compacted: 1,
            keys,
        };
        let path = write_snapshot(dir.path(), &data).unwrap();
        assert_eq!(read_snapshot(&path).unwrap(), data);
    }

    #[test]
    fn corruption_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = write_snapshot(dir.path(), &sample()).unwrap();
        let original = fs::read(&path).unwrap();
        let len = original.len() as u64;
        // A bit flip anywhere.
        for at in [
            0,
            8,
            12,
            20,
            28,
            36,
            50,
            original.len() / 2,
            original.len() - 5,
            original.len() - 1,
        ] {
            let mut data = original.clone();
            data[at] ^= 0x04;
            fs::write(&path, &data).unwrap();
            let (file, offset, reason) = expect_corrupt(read_snapshot(&path));
            assert_eq!(file, path);
            let expected = match at {
                0..8 => 0,
                8..12 => 8,
                _ => len - 4,
            };
            assert_eq!(offset, expected, "flip at {at}: {reason}");
        }
        // Truncated anywhere.
        for cut in [0, 10, 40, original.len() / 2, original.len() - 1] {
            fs::write(&path, &original[..cut]).unwrap();
            expect_corrupt(read_snapshot(&path));
        }
        // Extra bytes.
        let mut longer = original.clone();
        longer.push(0);
        fs::write(&path, &longer).unwrap();
        expect_corrupt(read_snapshot(&path));
    }

    /// Writes `bytes` with a valid checksum trailer.
    fn with_trailer(path: &Path, mut bytes: Vec<u8>) {
        let crc = crc32c::crc32c(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        fs::write(path, bytes).unwrap();
    }

    #[test]
    fn structural_damage_with_a_valid_checksum_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.snap");
        // Keys out of order, written without the writer's check.
        let mut data = sample();
        data.keys.swap(0, 1);
        write_to(&path, &data).unwrap();
        let (_, offset, reason) = expect_corrupt(read_snapshot(&path));
        assert!(reason.contains("out of order"), "{reason}");
        let first_key_bytes = 4 + data.keys[0].key.len() as u64 + 4 + 33;
        assert_eq!(offset, HEADER_BYTES + first_key_bytes);
        // Versions out of order.
        let mut data = sample();
        data.keys[0].versions.swap(1, 2);
        write_to(&path, &data).unwrap();
        let (_, _, reason) = expect_corrupt(read_snapshot(&path));
        assert!(reason.contains("out of order"), "{reason}");
        // A key count that the file cannot hold: no allocation, an error.
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&5i64.to_le_bytes());
        bytes.extend_from_slice(&0i64.to_le_bytes());
        bytes.extend_from_slice(&u64::MAX.to_le_bytes());
        with_trailer(&path, bytes.clone());
        let (_, offset, _) = expect_corrupt(read_snapshot(&path));
        assert_eq!(offset, 28);
        // A huge key length.
        bytes.truncate(28);
        bytes.extend_from_slice(&1u64.to_le_bytes());
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0; 8]);
        with_trailer(&path, bytes.clone());
        let (_, offset, reason) = expect_corrupt(read_snapshot(&path));
        assert_eq!(offset, 40, "{reason}");
        // A compaction point after the revision.
        bytes.truncate(12);
        bytes.extend_from_slice(&5i64.to_le_bytes());
        bytes.extend_from_slice(&6i64.to_le_bytes());
        bytes.extend_from_slice(&0u64.to_le_bytes());
        with_trailer(&path, bytes);
        let (_, offset, _) = expect_corrupt(read_snapshot(&path));
        assert_eq!(offset, 20);
    }

    #[test]
    fn the_writer_refuses_out_of_order_data() {
        let dir = tempfile::tempdir().unwrap();
        let mut data = sample();
        data.keys.swap(0, 2);
        let err = write_snapshot(dir.path(), &data).unwrap_err();
        assert!(matches!(err, StoreError::InvalidArgument(_)), "{err}");
        let mut data = sample();
        data.keys[0].versions[3].mod_revision = 13;
        assert!(write_snapshot(dir.path(), &data).is_err());
        assert_eq!(latest_snapshot(dir.path()).unwrap(), None);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no temp file left"
        );
    }

    #[test]
    fn latest_and_removal() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(latest_snapshot(&dir.path().join("missing")).unwrap(), None);
        assert_eq!(latest_snapshot(dir.path()).unwrap(), None);
        let mut paths = Vec::new();
        for revision in [3, 20, 17] {
            let data = SnapshotData {
                revision,
                compacted: 0,
                keys: Vec::new(),
            };
            paths.push(write_snapshot(dir.path(), &data).unwrap());
        }
        // An unfinished newer one and unrelated files do not count.
        fs::write(
            dir.path().join("snap-0000000000000063.snap.tmp"),
            b"partial",
        )
        .unwrap();
        fs::write(
            dir.path().join("snap-0000000000000001.snap.tmp"),
            b"partial",
        )
        .unwrap();
        fs::write(dir.path().join("wal-0000000000000001.log"), b"").unwrap();
        assert_eq!(latest_snapshot(dir.path()).unwrap(), Some(paths[1].clone()));
        remove_snapshots_before(dir.path(), 20).unwrap();
        assert!(!paths[0].exists() && paths[1].exists() && !paths[2].exists());
        assert!(!dir.path().join("snap-0000000000000001.snap.tmp").exists());
        assert!(dir.path().join("snap-0000000000000063.snap.tmp").exists());
        assert!(dir.path().join("wal-0000000000000001.log").exists());
        assert_eq!(latest_snapshot(dir.path()).unwrap(), Some(paths[1].clone()));
    }

    #[test]
    fn directory_lock() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        let lock = lock_dir(&data_dir).unwrap();
        let err = lock_dir(&data_dir).unwrap_err();
        match &err {
            StoreError::Unavailable { reason, .. } => {
                assert!(reason.contains("already in use"), "{reason}");
                assert!(reason.contains(&std::process::id().to_string()), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        drop(lock);
        let again = lock_dir(&data_dir).unwrap();
        drop(again);
    }
}
