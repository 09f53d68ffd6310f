//! The write-ahead log: checksummed records in preallocated segment files, appended by the
//! sync thread and replayed on open, with a torn last record discarded and any other damage
//! refused.
//!
//! # Record frame
//! ```text
//! len   u32 LE   length of the body (0 with a zero checksum: end of log)
//! crc   u32 LE   CRC-32C (Castagnoli) of the segment's first revision (i64 LE), then the body
//! body  type u8 (1 = Txn, 2 = Compact) | revision i64 LE (never negative)
//!       Txn:     op count u32 LE, then per op
//!                  kind u8 (1 = Put, 2 = Delete) | key len u32 LE | key (UTF-8)
//!                  Put only: value len u32 LE | value | lease i64 LE
//!       Compact: nothing more
//! ```
//! Every integer is little-endian, a body is at most [`MAX_RECORD_BYTES`], and a body must be
//! consumed exactly: the encoding of a record is canonical. The checksum covers the revision
//! that names the segment, so a record is valid only in its own segment: the old contents of
//! a recycled segment never pass for records of the new one. Every append writes an end
//! marker (a zero header) after its records, which the next append overwrites.
//!
//! # Segments
//! The log is a sequence of files `wal-<R>.log` in the data directory, `R` being 16 lowercase
//! hex digits: the revision of the first `Txn` record the segment may hold (the revision after
//! the last one of the previous segment). With preallocation a segment is written in full
//! before it is used, so `fdatasync` has no file size or block allocation to commit: a segment
//! released after a snapshot is kept for reuse (`wal-free-<R>.tmp`, up to [`RECYCLED_MAX`]),
//! and when none is free the next one is zero-filled in the background (`wal-next.tmp`). Either
//! is renamed into place when the active segment is full. Reusing a segment spares the disk
//! the zero-fill, which competes with the log's own flushes. A batch that does not fit goes to
//! a new segment whole; a single batch larger than a segment makes its segment grow.
//!
//! # Recovery
//! Segments are read in revision order. `Txn` revisions must be consecutive (across segments
//! too); a `Compact` record carries a revision no later than the current one. A gap in the
//! revisions is allowed only where the snapshot covers it (a snapshot may be ahead of a log
//! whose unsynced end was lost). A segment's records end at its end marker; what follows it
//! is zeros or a recycled segment's old contents, unless it holds a valid record of the
//! segment (the marker is then damage). In the last segment, an invalid record after which
//! no valid record can be found is a torn write that was never acknowledged: an end marker
//! is written over it and appends continue there. Any other damage — an invalid record in an
//! earlier segment or followed by a valid one, a revision gap, a missing segment, a log
//! written in the format before checksums covered the segment — is [`StoreError::Corrupt`]
//! with the file and the byte offset.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;

use crate::error::StoreError;
use crate::types::Revision;

/// Bytes of a record frame before the body: length and checksum.
const HEADER_BYTES: usize = 8;

/// The largest record body the log writes or reads (128 MiB). The store refuses larger
/// transactions long before this (its own request limit is far lower); recovery treats a
/// larger length as damage rather than allocating for it.
pub(crate) const MAX_RECORD_BYTES: usize = 128 << 20;

/// Record type byte of a transaction.
const TYPE_TXN: u8 = 1;
/// Record type byte of a compaction.
const TYPE_COMPACT: u8 = 2;
/// Op kind byte of a put.
const OP_PUT: u8 = 1;
/// Op kind byte of a delete.
const OP_DELETE: u8 = 2;

/// The smallest encoded op (a delete of an empty key): kind and key length.
const MIN_OP_BYTES: usize = 1 + 4;

/// The segment being zero-filled in the background, renamed into place on rotation.
const NEXT_SEGMENT: &str = "wal-next.tmp";

/// Name prefix of released segments kept for reuse.
const FREE_SEGMENT_PREFIX: &str = "wal-free-";

/// The most released segments kept for reuse.
pub(crate) const RECYCLED_MAX: usize = 4;

/// The checksum seed of a record not yet placed in a segment (segments start at revision 1).
pub(crate) const UNPLACED: Revision = 0;

/// The checksum of a frame with `body` before it is placed in a segment: what
/// [`decode_and_reencode`] checks. For the `wal_record` fuzz target.
pub fn unplaced_checksum(body: &[u8]) -> u32 {
    frame_crc(UNPLACED, body)
}

/// The checksum of a frame with `body` in the segment whose first revision is `seed`.
fn frame_crc(seed: Revision, body: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(&seed.to_le_bytes()), body)
}

/// Size of the zero buffer used to preallocate segments.
const ZERO_CHUNK: usize = 1 << 20;

/// One write of a logged transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WalOp {
    /// `key` now holds `value`, with `lease` attached (0: none).
    Put {
        /// The key.
        key: Arc<str>,
        /// The value.
        value: Bytes,
        /// The lease; 0 for none.
        lease: i64,
    },
    /// `key` was deleted.
    Delete {
        /// The key.
        key: Arc<str>,
    },
}

/// One log record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Record {
    /// A writing transaction and the revision it created.
    Txn {
        /// The transaction's revision (at least 1; consecutive in the log).
        revision: Revision,
        /// Its writes, in order.
        ops: Vec<WalOp>,
    },
    /// A compaction of the history up to and including `revision`.
    Compact {
        /// The new compaction point (at most the revision current when it was logged).
        revision: Revision,
    },
}

/// What [`decode`] found at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Decoded {
    /// A valid record, taking `len` bytes of the buffer (frame included).
    Record {
        /// The record.
        record: Record,
        /// Bytes consumed, header included.
        len: usize,
    },
    /// The end of the log: an empty buffer, or a zero header (preallocated space).
    End,
    /// Anything else: a short or oversized frame, a checksum mismatch, a malformed body.
    Invalid {
        /// What is wrong, for error messages.
        reason: String,
    },
}

/// Settings of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct WalConfig {
    /// Size of a segment file (default 64 MiB).
    pub segment_bytes: u64,
    /// Zero-fill segments to `segment_bytes` before use (default true): `fdatasync` of a
    /// preallocated file does not have to update its size, which makes it markedly cheaper.
    pub preallocate: bool,
}

impl Default for WalConfig {
    fn default() -> Self {
        WalConfig {
            segment_bytes: 64 << 20,
            preallocate: true,
        }
    }
}

/// Appends one framed record to `out`, its checksum left zero: [`Wal::append`] seals the
/// frames for the segment they go to ([`seal_frames`]).
///
/// A record whose body exceeds [`MAX_RECORD_BYTES`] is written with a frame that
/// [`Wal::append`] refuses, so an oversized transaction can never reach the disk.
pub(crate) fn encode(record: &Record, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&[0; HEADER_BYTES]);
    match record {
        Record::Txn { revision, ops } => {
            out.push(TYPE_TXN);
            out.extend_from_slice(&revision.to_le_bytes());
            put_len(out, ops.len());
            for op in ops {
                match op {
                    WalOp::Put { key, value, lease } => {
                        out.push(OP_PUT);
                        put_len(out, key.len());
                        out.extend_from_slice(key.as_bytes());
                        put_len(out, value.len());
                        out.extend_from_slice(value);
                        out.extend_from_slice(&lease.to_le_bytes());
                    }
                    WalOp::Delete { key } => {
                        out.push(OP_DELETE);
                        put_len(out, key.len());
                        out.extend_from_slice(key.as_bytes());
                    }
                }
            }
        }
        Record::Compact { revision } => {
            out.push(TYPE_COMPACT);
            out.extend_from_slice(&revision.to_le_bytes());
        }
    }
    let len = u32::try_from(out.len() - start - HEADER_BYTES).unwrap_or(u32::MAX);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
}

/// The body length and checksum in the frame header at the start of `buf`, if it holds one.
fn frame_header(buf: &[u8]) -> Option<(usize, u32)> {
    let h = buf.get(..HEADER_BYTES)?;
    let len = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    Some((len as usize, u32::from_le_bytes([h[4], h[5], h[6], h[7]])))
}

/// Writes a length as u32 LE (saturating: such a record is refused as too large anyway).
fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
}

/// Decodes the record at the start of `buf`, in the segment whose first revision is `seed`.
/// Never panics and never allocates more than the buffer holds, whatever the bytes.
pub(crate) fn decode(buf: &[u8], seed: Revision) -> Decoded {
    let invalid = |reason: String| Decoded::Invalid { reason };
    let Some((len, crc)) = frame_header(buf) else {
        return if buf.iter().all(|&b| b == 0) {
            Decoded::End
        } else {
            invalid(format!("truncated record header ({} bytes)", buf.len()))
        };
    };
    if len == 0 {
        return if crc == 0 {
            Decoded::End
        } else {
            invalid(format!("empty record with checksum {crc:#010x}"))
        };
    }
    if len > MAX_RECORD_BYTES {
        return invalid(format!(
            "record length {len} exceeds the limit of {MAX_RECORD_BYTES}"
        ));
    }
    let available = buf.len() - HEADER_BYTES;
    if len > available {
        return invalid(format!(
            "record of {len} bytes extends past the end ({available} bytes left)"
        ));
    }
    let body = &buf[HEADER_BYTES..HEADER_BYTES + len];
    let actual = frame_crc(seed, body);
    if actual != crc {
        return invalid(format!(
            "checksum mismatch: stored {crc:#010x}, computed {actual:#010x}"
        ));
    }
    match parse_body(body) {
        Ok(record) => Decoded::Record {
            record,
            len: HEADER_BYTES + len,
        },
        Err(reason) => invalid(reason),
    }
}

/// Parses a record body whose checksum has been verified.
fn parse_body(body: &[u8]) -> Result<Record, String> {
    let mut c = Cursor { buf: body, pos: 0 };
    let kind = c.u8()?;
    let revision = c.i64()?;
    if revision < 0 {
        return Err(format!("negative revision {revision}"));
    }
    let record = match kind {
        TYPE_TXN => {
            if revision < 1 {
                return Err("transaction at revision 0".to_owned());
            }
            let count = c.len()?;
            if count > c.remaining() / MIN_OP_BYTES {
                return Err(format!(
                    "op count {count} exceeds what {} bytes can hold",
                    c.remaining()
                ));
            }
            let mut ops = Vec::with_capacity(count);
            for _ in 0..count {
                let op = c.u8()?;
                let key_len = c.len()?;
                let key = std::str::from_utf8(c.bytes(key_len)?)
                    .map_err(|e| format!("key is not UTF-8: {e}"))?;
                let key: Arc<str> = Arc::from(key);
                ops.push(match op {
                    OP_PUT => {
                        let value_len = c.len()?;
                        let value = Bytes::copy_from_slice(c.bytes(value_len)?);
                        let lease = c.i64()?;
                        WalOp::Put { key, value, lease }
                    }
                    OP_DELETE => WalOp::Delete { key },
                    other => return Err(format!("unknown op kind {other}")),
                });
            }
            Record::Txn { revision, ops }
        }
        TYPE_COMPACT => Record::Compact { revision },
        other => return Err(format!("unknown record type {other}")),
    };
    if c.remaining() != 0 {
        return Err(format!("{} trailing bytes after the record", c.remaining()));
    }
    Ok(record)
}

/// A bounds-checked reader over a record body.
struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// Bytes left to read.
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next `n` bytes.
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        if n > self.remaining() {
            return Err(format!(
                "field of {n} bytes at body offset {} exceeds the record ({} bytes left)",
                self.pos,
                self.remaining()
            ));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    /// The next `N` bytes, as an array.
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0; N];
        out.copy_from_slice(self.bytes(N)?);
        Ok(out)
    }

    /// A byte.
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }

    /// A u32 LE length or count.
    fn len(&mut self) -> Result<usize, String> {
        let n = u32::from_le_bytes(self.array()?);
        usize::try_from(n).map_err(|_| format!("length {n} does not fit in memory"))
    }

    /// An i64 LE.
    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_le_bytes(self.array()?))
    }
}

/// Decodes `data` the way recovery does, record after record, and checks that every record
/// re-encodes to exactly the bytes it was read from and decodes again to itself. Returns the
/// number of records before the end marker or the first invalid record.
///
/// For the `wal_record` fuzz target (through `embedded::fuzzing`).
///
/// # Errors
/// A description of the first record that does not round-trip: a bug.
pub fn decode_and_reencode(data: &[u8]) -> Result<usize, String> {
    let mut offset = 0;
    let mut records = 0;
    let mut out = Vec::new();
    loop {
        match decode(&data[offset..], UNPLACED) {
            Decoded::Record { record, len } => {
                if len <= HEADER_BYTES || len > data.len() - offset {
                    return Err(format!("record at {offset} claims {len} bytes"));
                }
                out.clear();
                encode(&record, &mut out);
                seal_frames(&mut out, UNPLACED);
                if out != data[offset..offset + len] {
                    return Err(format!(
                        "record at {offset} re-encodes differently: {record:?}"
                    ));
                }
                match decode(&out, UNPLACED) {
                    Decoded::Record {
                        record: again,
                        len: again_len,
                    } if again == record && again_len == len => {}
                    other => {
                        return Err(format!(
                            "re-encoded record at {offset} decodes as {other:?}"
                        ));
                    }
                }
                offset += len;
                records += 1;
            }
            Decoded::End | Decoded::Invalid { .. } => return Ok(records),
        }
    }
}

/// The file name of the segment whose first transaction is `first`.
fn segment_name(first: Revision) -> String {
    format!("wal-{first:016x}.log")
}

/// The first revision of a segment file name, `None` for files that are not segments.
/// `Some(Err)` for a name that looks like a segment but is malformed.
fn parse_segment_name(name: &str) -> Option<Result<Revision, String>> {
    let hex = name.strip_prefix("wal-")?.strip_suffix(".log")?;
    let parsed = (hex.len() == 16 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
        .and_then(|n| i64::try_from(n).ok())
        .filter(|&n| n >= 1);
    Some(parsed.ok_or_else(|| format!("malformed segment file name {name:?}")))
}

/// A closure building an I/O error on `path`.
fn io_err<'p>(op: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> StoreError + 'p {
    move |e| StoreError::io(op, path, e)
}

/// A `Corrupt` error for the record at `offset` of `path`.
fn corrupt(path: &Path, offset: usize, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        file: path.to_path_buf(),
        offset: u64::try_from(offset).unwrap_or(u64::MAX),
        reason: reason.into(),
    }
}

/// Fsyncs a directory, making file creations, renames and deletions in it durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("fsync directory", dir))
}

/// Creates (truncating) `path`, zero-filled to `size` bytes and synced, and returns it open
/// for reading and writing.
fn create_zeroed(path: &Path, size: u64) -> io::Result<File> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    let zeros = vec![0u8; ZERO_CHUNK];
    let mut left = size;
    while left > 0 {
        let n = usize::try_from(left).map_or(ZERO_CHUNK, |l| l.min(ZERO_CHUNK));
        file.write_all(&zeros[..n])?;
        left -= n as u64;
    }
    file.sync_all()?;
    Ok(file)
}

/// Failures injected by tests.
#[cfg(test)]
pub(crate) mod faults {
    use std::path::{Path, PathBuf};

    use parking_lot::Mutex;

    /// Data directories whose log fails every sync.
    static FAILING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

    /// Makes every sync of the log in `dir` fail from now on.
    pub(crate) fn fail_syncs_in(dir: &Path) {
        FAILING.lock().push(dir.to_path_buf());
    }

    pub(super) fn sync_fails_in(dir: &Path) -> bool {
        FAILING.lock().iter().any(|d| d == dir)
    }
}

/// One segment file of the log.
#[derive(Debug)]
struct Segment {
    /// The revision of the first transaction it may hold.
    first: Revision,
    path: PathBuf,
}

/// The segments in `dir` in revision order. Removes a leftover `wal-next.tmp` and free
/// segments.
fn list_segments(dir: &Path) -> Result<Vec<Segment>, StoreError> {
    let mut segments = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err("read directory", dir))? {
        let entry = entry.map_err(io_err("read directory", dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name == NEXT_SEGMENT || (name.starts_with(FREE_SEGMENT_PREFIX) && name.ends_with(".tmp"))
        {
            let path = entry.path();
            fs::remove_file(&path).map_err(io_err("remove", &path))?;
            continue;
        }
        match parse_segment_name(name) {
            None => {}
            Some(Ok(first)) => segments.push(Segment {
                first,
                path: entry.path(),
            }),
            Some(Err(reason)) => return Err(corrupt(&entry.path(), 0, reason)),
        }
    }
    segments.sort_by_key(|s| s.first);
    Ok(segments)
}

/// Where the scan of a segment stopped.
struct Scanned {
    /// Offset of the end of the last valid record.
    end: usize,
    /// For a torn tail: why the record there is invalid.
    torn: Option<String>,
}

/// Replays one segment, whose first revision is `seed`. `current` is the last transaction
/// revision seen so far; records after the snapshot (`after`) are pushed to `out`.
fn scan_segment(
    path: &Path,
    data: &[u8],
    (is_last, seed): (bool, Revision),
    after: Revision,
    current: &mut Revision,
    out: &mut Vec<Record>,
) -> Result<Scanned, StoreError> {
    let mut offset = 0;
    let reason = loop {
        match decode(&data[offset..], seed) {
            Decoded::Record { record, len } => {
                match &record {
                    Record::Txn { revision, .. } => {
                        if current.checked_add(1) != Some(*revision) {
                            return Err(corrupt(
                                path,
                                offset,
                                format!(
                                    "expected revision {} but found {revision} (revisions missing)",
                                    i128::from(*current) + 1
                                ),
                            ));
                        }
                        *current = *revision;
                        if *revision > after {
                            out.push(record);
                        }
                    }
                    Record::Compact { revision } => {
                        if *revision > *current {
                            return Err(corrupt(
                                path,
                                offset,
                                format!(
                                    "compaction to revision {revision} logged at revision {current}"
                                ),
                            ));
                        }
                        if *current >= after {
                            out.push(record);
                        }
                    }
                }
                offset += len;
            }
            Decoded::End => {
                // What follows is zeros or a recycled segment's old contents, which fail this
                // segment's checks; a record of this segment means the marker is damage. In
                // an earlier segment, lost records show as a revision gap at the next one.
                if is_last && let Some(valid) = find_record(data, offset + 1, *current, seed) {
                    return Err(corrupt(
                        path,
                        offset,
                        format!("end marker followed by a valid record at offset {valid}"),
                    ));
                }
                return Ok(Scanned {
                    end: offset,
                    torn: None,
                });
            }
            Decoded::Invalid { reason } => {
                if written_before_segment_checksums(&data[offset..]) {
                    return Err(corrupt(
                        path,
                        offset,
                        "a record checksummed without its segment: this log was written by an \
                         earlier build, whose log format this one does not read (open it with \
                         that build and take a backup, which restores here)",
                    ));
                }
                break reason;
            }
        }
    };
    if !is_last {
        return Err(corrupt(
            path,
            offset,
            format!("{reason} (not at the end of the log)"),
        ));
    }
    if let Some(valid) = find_record(data, offset + 1, *current, seed) {
        return Err(corrupt(
            path,
            offset,
            format!("{reason}, followed by a valid record at offset {valid}"),
        ));
    }
    Ok(Scanned {
        end: offset,
        torn: Some(reason),
    })
}

/// Whether `buf` starts with a frame whose checksum covers its body alone: the log format
/// before checksums covered the segment. Such a log must not pass for a torn one.
fn written_before_segment_checksums(buf: &[u8]) -> bool {
    let Some((len, crc)) = frame_header(buf) else {
        return false;
    };
    len > 0
        && buf
            .get(HEADER_BYTES..HEADER_BYTES + len)
            .is_some_and(|body| crc32c::crc32c(body) == crc)
}

/// The smallest frame: header, type and revision (a `Compact` record).
const MIN_FRAME_BYTES: usize = HEADER_BYTES + 1 + 8;

/// The offset of the first valid record of the segment whose first revision is `seed`,
/// starting at or after `from`, whose revision could follow `current` (the last revision
/// before `from`), if any.
///
/// Before checksumming a candidate, its length, type and revision must be plausible: a later
/// record of this log has a revision above `current` (a `Compact` one, at most that far), by at
/// most one per frame that fits. Arbitrary bytes almost never pass, which keeps this scan
/// linear on a damaged segment, and a frame embedded in a value of an older record does not
/// count.
fn find_record(data: &[u8], from: usize, current: Revision, seed: Revision) -> Option<usize> {
    if data
        .get(from..)
        .is_none_or(|rest| rest.iter().all(|&b| b == 0))
    {
        return None;
    }
    let frames = i64::try_from(data.len() / MIN_FRAME_BYTES).unwrap_or(i64::MAX);
    let highest = current.saturating_add(frames);
    (from..=data.len().saturating_sub(MIN_FRAME_BYTES)).find(|&p| {
        let buf = &data[p..];
        let (len, _) = frame_header(buf).unwrap_or_default();
        let mut revision = [0; 8];
        revision.copy_from_slice(&buf[HEADER_BYTES + 1..MIN_FRAME_BYTES]);
        let revision = i64::from_le_bytes(revision);
        let plausible = match buf[HEADER_BYTES] {
            TYPE_TXN => revision > current && revision <= highest,
            TYPE_COMPACT => (0..=highest).contains(&revision),
            _ => false,
        };
        plausible
            && (MIN_FRAME_BYTES - HEADER_BYTES..=buf.len() - HEADER_BYTES).contains(&len)
            && matches!(decode(buf, seed), Decoded::Record { .. })
    })
}

/// Creates segment `wal-<first>.log` from a free segment, or from the one preallocated in the
/// background, when there is one, and returns it open. The directory still needs an fsync.
fn create_segment(
    dir: &Path,
    config: WalConfig,
    precreate: &mut Option<JoinHandle<io::Result<File>>>,
    free: &mut Vec<PathBuf>,
    first: Revision,
) -> Result<(File, Segment), StoreError> {
    let path = dir.join(segment_name(first));
    if path.exists() {
        return Err(StoreError::io(
            "create",
            &path,
            io::Error::new(io::ErrorKind::AlreadyExists, "segment already exists"),
        ));
    }
    let file = if let Some(reused) = free.pop() {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&reused)
            .map_err(io_err("open", &reused))?;
        fs::rename(&reused, &path).map_err(io_err("rename", &reused))?;
        file
    } else if config.preallocate {
        let tmp = dir.join(NEXT_SEGMENT);
        let ready = match precreate.take().map(JoinHandle::join) {
            Some(Ok(Ok(file))) => Some(file),
            // The background fill failed: do it here, reporting the error if it fails again.
            Some(Ok(Err(_)) | Err(_)) | None => None,
        };
        let mut file = match ready {
            Some(file) => file,
            None => {
                create_zeroed(&tmp, config.segment_bytes).map_err(io_err("preallocate", &tmp))?
            }
        };
        fs::rename(&tmp, &path).map_err(io_err("rename", &tmp))?;
        file.seek(SeekFrom::Start(0))
            .map_err(io_err("seek", &path))?;
        file
    } else {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(io_err("create", &path))?
    };
    Ok((file, Segment { first, path }))
}

/// The write-ahead log of one data directory, open for appending.
///
/// Not internally synchronized: the sync thread owns it.
#[derive(Debug)]
pub(crate) struct Wal {
    dir: PathBuf,
    config: WalConfig,
    /// Every segment, oldest first; the last one is active.
    segments: Vec<Segment>,
    /// The active segment, positioned at `offset`.
    file: File,
    /// Where the next record goes in the active segment.
    offset: u64,
    /// The last transaction revision appended (or covered by the snapshot).
    last_revision: Revision,
    /// Appended bytes not yet synced.
    unsynced: bool,
    /// A segment was created (renamed into place) since the last directory fsync.
    dir_dirty: bool,
    /// The next segment, being zero-filled in the background.
    precreate: Option<JoinHandle<io::Result<File>>>,
    /// Released segments kept for reuse (`wal-free-<first revision>.tmp`), full-sized and
    /// written.
    free: Vec<PathBuf>,
    /// Set by the first failed write or sync: the log refuses everything afterwards.
    failed: Option<String>,
}

impl Wal {
    /// Opens (creating) the log in `dir` and replays it: returns every record with revision >
    /// `after` (the snapshot's revision), in order. A `Compact` record is returned when it was
    /// logged after the `Txn` of revision `after`; replaying one at or below the compaction
    /// point already loaded must be a no-op.
    ///
    /// Before this returns, a torn last record gets an end marker written over it on disk,
    /// and the directory's leftover `wal-next.tmp` and free segments are removed.
    ///
    /// # Errors
    /// `Corrupt` for damage other than a torn tail, a revision gap or a missing segment
    /// (including revisions between the snapshot and the start of the log); `Io`.
    pub(crate) fn open(
        dir: &Path,
        after: Revision,
        config: WalConfig,
    ) -> Result<(Wal, Vec<Record>), StoreError> {
        fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
        let segments = list_segments(dir)?;
        let mut records = Vec::new();
        let mut current: Option<Revision> = None;
        let mut end = 0;
        for (i, segment) in segments.iter().enumerate() {
            let path = &segment.path;
            let first = segment.first;
            match current {
                None if first - 1 > after => {
                    return Err(corrupt(
                        path,
                        0,
                        format!(
                            "the log starts at revision {first} but the snapshot ends at \
                             {after}: revisions {}..={} are missing",
                            after + 1,
                            first - 1
                        ),
                    ));
                }
                Some(c) if first <= c => {
                    return Err(corrupt(
                        path,
                        0,
                        format!(
                            "segment starts at revision {first} but the previous one reaches {c}"
                        ),
                    ));
                }
                Some(c) if first - 1 > c && first - 1 > after => {
                    return Err(corrupt(
                        path,
                        0,
                        format!(
                            "revisions {}..={} are missing before this segment (a lost segment?)",
                            c + 1,
                            first - 1
                        ),
                    ));
                }
                _ => {}
            }
            let mut rev = first - 1;
            let data = fs::read(path).map_err(io_err("read", path))?;
            let is_last = i + 1 == segments.len();
            let scanned =
                scan_segment(path, &data, (is_last, first), after, &mut rev, &mut records)?;
            current = Some(rev);
            end = scanned.end;
            if let Some(reason) = scanned.torn {
                tracing::warn!(
                    file = %path.display(),
                    offset = scanned.end,
                    %reason,
                    "discarding a torn write at the end of the log"
                );
                // An end marker over it: the log ends here, whatever follows.
                let file = OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(io_err("open", path))?;
                file.write_all_at(&[0; HEADER_BYTES], scanned.end as u64)
                    .map_err(io_err("write", path))?;
                file.sync_data().map_err(io_err("fdatasync", path))?;
            }
        }

        let last_revision = current.map_or(after, |c| c.max(after));
        let mut segments = segments;
        let mut precreate = None;
        let (file, offset, dir_dirty) = match (segments.last(), current) {
            // The log reaches the snapshot: append to its last segment.
            (Some(last), Some(c)) if c >= after => {
                let path = &last.path;
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open(path)
                    .map_err(io_err("open", path))?;
                (file, end as u64, false)
            }
            // No log, or a log that ends before the snapshot (its unsynced end was lost, or it
            // was released): start a segment after the snapshot.
            _ => {
                let (file, segment) =
                    create_segment(dir, config, &mut precreate, &mut Vec::new(), after + 1)?;
                segments.push(segment);
                (file, 0, true)
            }
        };
        let mut wal = Wal {
            dir: dir.to_path_buf(),
            config,
            segments,
            file,
            offset,
            last_revision,
            unsynced: false,
            dir_dirty,
            precreate,
            free: Vec::new(),
            failed: None,
        };
        wal.sync_dir_if_needed()?;
        wal.maybe_precreate();
        Ok((wal, records))
    }

    /// Appends encoded records (one or more frames from [`encode`]) whose last transaction
    /// revision is `last_revision`. The bytes go to the OS, not to the disk: call
    /// [`Wal::sync`] before acknowledging. Moves to a new segment first when the active one
    /// cannot hold them.
    ///
    /// # Errors
    /// `TooLarge` for a record over [`MAX_RECORD_BYTES`], `InvalidArgument` for bytes that
    /// are not whole frames; `Io` when writing fails, after which the log refuses every
    /// further append and sync (`Unavailable`).
    pub(crate) fn append(
        &mut self,
        encoded: &mut Vec<u8>,
        last_revision: Revision,
    ) -> Result<(), StoreError> {
        self.check_usable()?;
        check_frames(encoded)?;
        if last_revision < self.last_revision {
            return Err(StoreError::InvalidArgument(format!(
                "log append at revision {last_revision} after revision {}",
                self.last_revision
            )));
        }
        if encoded.is_empty() {
            return Ok(());
        }
        let len = encoded.len() as u64;
        let active_has_txn = self
            .segments
            .last()
            .is_some_and(|s| self.last_revision >= s.first);
        let needed = self.offset + len + HEADER_BYTES as u64;
        if self.offset > 0 && needed > self.config.segment_bytes && active_has_txn {
            let result = self.rotate();
            self.poison_on_error(result)?;
        }
        let seed = self.segments.last().map_or(UNPLACED, |s| s.first);
        seal_frames(encoded, seed);
        // The end marker goes in the same write, right after the records.
        encoded.extend_from_slice(&[0; HEADER_BYTES]);
        let path = self.active_path().to_path_buf();
        let result = self
            .file
            .write_all_at(encoded, self.offset)
            .map_err(io_err("write", &path));
        encoded.truncate(encoded.len() - HEADER_BYTES);
        self.poison_on_error(result)?;
        self.offset += len;
        self.last_revision = last_revision;
        self.unsynced = true;
        self.maybe_precreate();
        Ok(())
    }

    /// Makes everything appended so far durable: `fdatasync` of the active segment (a full
    /// segment was synced when the log moved past it), then an fsync of the directory when a
    /// segment was created since the last sync.
    ///
    /// # Errors
    /// `Io`; after a failure the log refuses everything (`Unavailable`): a failed `fdatasync`
    /// is never retried, since the kernel may have dropped the dirty pages it failed to write.
    pub(crate) fn sync(&mut self) -> Result<(), StoreError> {
        self.check_usable()?;
        #[cfg(test)]
        if faults::sync_fails_in(&self.dir) {
            let result = Err(io_err("fdatasync", &self.dir)(io::Error::other(
                "injected failure",
            )));
            return self.poison_on_error(result);
        }
        let result = if self.unsynced {
            let path = self.active_path().to_path_buf();
            self.file.sync_data().map_err(io_err("fdatasync", &path))
        } else {
            Ok(())
        }
        .and_then(|()| self.sync_dir_if_needed());
        self.unsynced = false;
        self.poison_on_error(result)
    }

    /// The last transaction revision appended (or covered by the snapshot).
    pub(crate) fn last_revision(&self) -> Revision {
        self.last_revision
    }

    /// Deletes the segments that hold only records up to `revision` (never the active one).
    /// Call it once a snapshot at `revision` or later is durable.
    ///
    /// # Errors
    /// `Io` when a deletion or the directory fsync fails.
    pub(crate) fn release_through(&mut self, revision: Revision) -> Result<(), StoreError> {
        let mut removed = false;
        while self.segments.len() > 1 && self.segments[1].first - 1 <= revision {
            let Segment { first, path } = &self.segments[0];
            let (first, path) = (*first, path.clone());
            if !self.recycle(first, &path) {
                match fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(StoreError::io("remove", &path, e)),
                }
            }
            self.segments.remove(0);
            removed = true;
        }
        if removed {
            sync_dir(&self.dir)?;
        }
        Ok(())
    }

    /// Keeps a released segment for reuse, when it is a full preallocated one and fewer
    /// than [`RECYCLED_MAX`] are kept; returns whether it did.
    fn recycle(&mut self, first: Revision, path: &Path) -> bool {
        if !self.config.preallocate
            || self.free.len() >= RECYCLED_MAX
            || fs::metadata(path).map_or(true, |m| m.len() != self.config.segment_bytes)
        {
            return false;
        }
        let free = self
            .dir
            .join(format!("{FREE_SEGMENT_PREFIX}{first:016x}.tmp"));
        if fs::rename(path, &free).is_err() {
            return false;
        }
        self.free.push(free);
        true
    }

    /// The active segment's path.
    fn active_path(&self) -> &Path {
        self.segments
            .last()
            .map_or(self.dir.as_path(), |s| s.path.as_path())
    }

    /// Refuses any use of a log whose write or sync failed.
    fn check_usable(&self) -> Result<(), StoreError> {
        match &self.failed {
            None => Ok(()),
            Some(reason) => Err(StoreError::Unavailable {
                reason: format!("the write-ahead log failed earlier ({reason}); reopen the store"),
                source: None,
            }),
        }
    }

    /// Marks the log failed when `result` is an error, and passes it on.
    fn poison_on_error(&mut self, result: Result<(), StoreError>) -> Result<(), StoreError> {
        if let Err(e) = &result {
            self.failed.get_or_insert_with(|| e.to_string());
        }
        result
    }

    /// Fsyncs the directory if a segment was created since the last time.
    fn sync_dir_if_needed(&mut self) -> Result<(), StoreError> {
        if self.dir_dirty {
            sync_dir(&self.dir)?;
            self.dir_dirty = false;
        }
        Ok(())
    }

    /// Syncs the full segment and moves to a new one starting after the last revision.
    fn rotate(&mut self) -> Result<(), StoreError> {
        // Only the last segment may end torn: the old one is made durable before any record
        // goes to the new one.
        if self.unsynced {
            let path = self.active_path().to_path_buf();
            self.file.sync_data().map_err(io_err("fdatasync", &path))?;
            self.unsynced = false;
        }
        self.new_segment(self.last_revision + 1)
    }

    /// Creates segment `wal-<first>.log` and makes it the active segment.
    fn new_segment(&mut self, first: Revision) -> Result<(), StoreError> {
        let (file, segment) = create_segment(
            &self.dir,
            self.config,
            &mut self.precreate,
            &mut self.free,
            first,
        )?;
        self.file = file;
        self.offset = 0;
        self.dir_dirty = true;
        self.segments.push(segment);
        Ok(())
    }

    /// Starts zero-filling the next segment once the active one is half full.
    fn maybe_precreate(&mut self) {
        if !self.config.preallocate
            || self.precreate.is_some()
            || !self.free.is_empty()
            || self.offset < self.config.segment_bytes / 2
        {
            return;
        }
        let tmp = self.dir.join(NEXT_SEGMENT);
        let size = self.config.segment_bytes;
        // If the thread cannot start, rotation zero-fills in the foreground.
        self.precreate = std::thread::Builder::new()
            .name("kubernaut-wal-prealloc".into())
            .spawn(move || create_zeroed(&tmp, size))
            .ok();
    }

    /// The segments' paths, oldest first.
    #[cfg(test)]
    fn segment_paths(&self) -> Vec<PathBuf> {
        self.segments.iter().map(|s| s.path.clone()).collect()
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        // Wait for a background preallocation, then drop its file: the next open would
        // remove it anyway.
        if let Some(handle) = self.precreate.take() {
            let _ = handle.join();
            let _ = fs::remove_file(self.dir.join(NEXT_SEGMENT));
        }
        for free in self.free.drain(..) {
            let _ = fs::remove_file(free);
        }
    }
}

/// Sets the checksum of every frame in `frames` (checked by [`check_frames`]) for the segment
/// whose first revision is `seed`.
fn seal_frames(frames: &mut [u8], seed: Revision) {
    let mut at = 0;
    while let Some((len, _)) = frame_header(&frames[at..]) {
        let Some(body) = frames.get(at + HEADER_BYTES..at + HEADER_BYTES + len) else {
            return;
        };
        let crc = frame_crc(seed, body);
        frames[at + 4..at + HEADER_BYTES].copy_from_slice(&crc.to_le_bytes());
        at += HEADER_BYTES + len;
    }
}

/// Checks that `encoded` is a sequence of whole frames within the size limit.
fn check_frames(encoded: &[u8]) -> Result<(), StoreError> {
    let mut rest = encoded;
    while !rest.is_empty() {
        let Some((len, _)) = frame_header(rest) else {
            return Err(StoreError::InvalidArgument(
                "log append of a partial record".to_owned(),
            ));
        };
        if len > MAX_RECORD_BYTES {
            return Err(StoreError::TooLarge {
                size: len,
                limit: MAX_RECORD_BYTES,
            });
        }
        if len == 0 || len > rest.len() - HEADER_BYTES {
            return Err(StoreError::InvalidArgument(
                "log append of a partial record".to_owned(),
            ));
        }
        rest = &rest[HEADER_BYTES + len..];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn put(key: &str, value: &str) -> WalOp {
        WalOp::Put {
            key: Arc::from(key),
            value: Bytes::copy_from_slice(value.as_bytes()),
            lease: 0,
        }
    }

    fn txn(revision: Revision) -> Record {
        Record::Txn {
            revision,
            ops: vec![
                put(&format!("/registry/pods/ns/p{revision}"), "value"),
                WalOp::Delete {
                    key: Arc::from("/gone"),
                },
            ],
        }
    }

    /// `records` encoded and sealed as records not yet placed in a segment.
    fn enc(records: &[Record]) -> Vec<u8> {
        let mut out = Vec::new();
        for r in records {
            encode(r, &mut out);
        }
        seal_frames(&mut out, UNPLACED);
        out
    }

    /// `records` encoded as they are in the segment whose first revision is `seed`.
    fn enc_in(records: &[Record], seed: Revision) -> Vec<u8> {
        let mut out = enc(records);
        seal_frames(&mut out, seed);
        out
    }

    fn config(segment_bytes: u64, preallocate: bool) -> WalConfig {
        WalConfig {
            segment_bytes,
            preallocate,
        }
    }

    /// Appends `records` one batch each and syncs.
    fn write_log(dir: &Path, cfg: WalConfig, after: Revision, records: &[Record]) -> Wal {
        let (mut wal, _) = Wal::open(dir, after, cfg).expect("open");
        for r in records {
            let last = match r {
                Record::Txn { revision, .. } => *revision,
                Record::Compact { .. } => wal.last_revision,
            };
            wal.append(&mut enc(std::slice::from_ref(r)), last)
                .expect("append");
        }
        wal.sync().expect("sync");
        wal
    }

    fn expect_corrupt(result: Result<(Wal, Vec<Record>), StoreError>) -> (PathBuf, u64, String) {
        match result {
            Err(StoreError::Corrupt {
                file,
                offset,
                reason,
            }) => (file, offset, reason),
            Err(other) => panic!("expected Corrupt, got {other:?}"),
            Ok((_, records)) => panic!("expected Corrupt, got {} records", records.len()),
        }
    }

    fn arb_key() -> impl Strategy<Value = Arc<str>> {
        ".{0,12}".prop_map(|s: String| Arc::from(s))
    }

    fn arb_op() -> impl Strategy<Value = WalOp> {
        prop_oneof![
            (
                arb_key(),
                proptest::collection::vec(any::<u8>(), 0..40),
                any::<i64>()
            )
                .prop_map(|(key, value, lease)| WalOp::Put {
                    key,
                    value: Bytes::from(value),
                    lease
                }),
            arb_key().prop_map(|key| WalOp::Delete { key }),
        ]
    }

    fn arb_record() -> impl Strategy<Value = Record> {
        prop_oneof![
            (1..=i64::MAX, proptest::collection::vec(arb_op(), 0..6))
                .prop_map(|(revision, ops)| Record::Txn { revision, ops }),
            (0..=i64::MAX).prop_map(|revision| Record::Compact { revision }),
        ]
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(records in proptest::collection::vec(arb_record(), 1..5)) {
            let buf = enc(&records);
            let mut offset = 0;
            for r in &records {
                match decode(&buf[offset..], UNPLACED) {
                    Decoded::Record { record, len } => {
                        prop_assert_eq!(&record, r);
                        offset += len;
                    }
                    other => prop_assert!(false, "{other:?}"),
                }
            }
            prop_assert_eq!(offset, buf.len());
            prop_assert_eq!(decode(&buf[offset..], UNPLACED), Decoded::End);
            prop_assert_eq!(decode_and_reencode(&buf), Ok(records.len()));
        }

        #[test]
        fn decode_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes, UNPLACED);
            prop_assert!(decode_and_reencode(&bytes).is_ok());
        }

        /// Damaged bodies with a recomputed checksum reach the body parser.
        #[test]
        fn decode_never_panics_on_damaged_bodies(
            record in arb_record(),
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let mut buf = enc(std::slice::from_ref(&record));
            let mut body = buf.split_off(HEADER_BYTES);
            for (at, byte) in edits {
                let i = at.index(body.len());
                body[i] = byte;
            }
            if truncate {
                body.truncate(cut.index(body.len() + 1));
            }
            let mut framed = Vec::new();
            framed.extend_from_slice(&(body.len() as u32).to_le_bytes());
            framed.extend_from_slice(&frame_crc(UNPLACED, &body).to_le_bytes());
            framed.extend_from_slice(&body);
            let _ = decode(&framed, UNPLACED);
            prop_assert!(decode_and_reencode(&framed).is_ok());
            // Without the recomputed checksum, any change is caught.
            let mut stale = enc(std::slice::from_ref(&record));
            stale.truncate(HEADER_BYTES);
            stale.extend_from_slice(&body);
            if stale != enc(std::slice::from_ref(&record)) {
                let is_invalid = matches!(decode(&stale, UNPLACED), Decoded::Invalid { .. } | Decoded::End);
                prop_assert!(is_invalid);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Recovery of a last segment that is a valid log followed by arbitrary bytes: the
        /// valid prefix or a `Corrupt` error, never a panic or another error.
        #[test]
        fn recovery_never_panics(
            records in 0usize..4,
            noise in proptest::collection::vec(any::<u8>(), 0..200),
            flip in any::<Option<(prop::sample::Index, u8)>>(),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let valid: Vec<Record> = (1..=records as i64).map(txn).collect();
            let mut data = enc(&valid);
            data.extend_from_slice(&noise);
            if let Some((at, bit)) = flip {
                let i = at.index(data.len().max(1));
                if let Some(b) = data.get_mut(i) {
                    *b ^= 1 << (bit % 8);
                }
            }
            fs::write(dir.path().join(segment_name(1)), &data).unwrap();
            match Wal::open(dir.path(), 0, config(4096, false)) {
                Ok((_, replayed)) => prop_assert!(valid.starts_with(&replayed)),
                Err(StoreError::Corrupt { .. }) => {}
                Err(other) => prop_assert!(false, "{other}"),
            }
        }
    }

    #[test]
    fn decode_edge_cases() {
        assert_eq!(decode(&[], UNPLACED), Decoded::End);
        assert_eq!(decode(&[0; 5], UNPLACED), Decoded::End);
        assert_eq!(decode(&[0; 64], UNPLACED), Decoded::End);
        assert!(matches!(
            decode(&[0, 0, 1], UNPLACED),
            Decoded::Invalid { .. }
        ));
        // Zero length with a checksum.
        assert!(matches!(
            decode(&[0, 0, 0, 0, 1, 0, 0, 0], UNPLACED),
            Decoded::Invalid { .. }
        ));
        // Enormous lengths are refused before any allocation.
        let mut huge = vec![0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        huge.extend_from_slice(&[1; 32]);
        assert!(
            matches!(decode(&huge, UNPLACED), Decoded::Invalid { reason } if reason.contains("limit"))
        );
        // A length past the buffer.
        let full = enc(&[txn(1)]);
        assert!(matches!(
            decode(&full[..full.len() - 1], UNPLACED),
            Decoded::Invalid { .. }
        ));
        // An op count far beyond the body.
        let mut body = vec![TYPE_TXN];
        body.extend_from_slice(&1i64.to_le_bytes());
        body.extend_from_slice(&u32::MAX.to_le_bytes());
        let mut framed = (body.len() as u32).to_le_bytes().to_vec();
        framed.extend_from_slice(&frame_crc(UNPLACED, &body).to_le_bytes());
        framed.extend_from_slice(&body);
        assert!(
            matches!(decode(&framed, UNPLACED), Decoded::Invalid { reason } if reason.contains("op count"))
        );
        // A non-UTF-8 key.
        let rec = Record::Txn {
            revision: 1,
            ops: vec![WalOp::Delete {
                key: Arc::from("ab"),
            }],
        };
        let mut bytes = enc(&[rec]);
        let n = bytes.len();
        bytes[n - 1] = 0xff;
        let body = bytes[HEADER_BYTES..].to_vec();
        bytes[4..8].copy_from_slice(&frame_crc(UNPLACED, &body).to_le_bytes());
        assert!(
            matches!(decode(&bytes, UNPLACED), Decoded::Invalid { reason } if reason.contains("UTF-8"))
        );
    }

    #[test]
    fn reopen_after_many_appends() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(64 << 10, true);
        let records: Vec<Record> = (1..=1000).map(txn).collect();
        {
            let (mut wal, replayed) = Wal::open(dir.path(), 0, cfg).unwrap();
            assert!(replayed.is_empty());
            // Batches of 10 records, one sync each.
            for chunk in records.chunks(10) {
                let last = match chunk.last() {
                    Some(Record::Txn { revision, .. }) => *revision,
                    _ => unreachable!(),
                };
                wal.append(&mut enc(chunk), last).unwrap();
                wal.sync().unwrap();
            }
            assert!(wal.segment_paths().len() > 1, "rotated");
        }
        let (mut wal, replayed) = Wal::open(dir.path(), 0, cfg).unwrap();
        assert_eq!(replayed, records);
        wal.append(
            &mut enc(&[txn(1001), Record::Compact { revision: 900 }]),
            1001,
        )
        .unwrap();
        wal.sync().unwrap();
        drop(wal);
        let (_wal, replayed) = Wal::open(dir.path(), 995, cfg).unwrap();
        let mut expected: Vec<Record> = (996..=1001).map(txn).collect();
        expected.push(Record::Compact { revision: 900 });
        assert_eq!(replayed, expected);
        assert!(!dir.path().join(NEXT_SEGMENT).exists());
    }

    #[test]
    fn segment_rotation_and_release() {
        for preallocate in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let cfg = config(300, preallocate);
            let records: Vec<Record> = (1..=40).map(txn).collect();
            let mut wal = write_log(dir.path(), cfg, 0, &records);
            let paths = wal.segment_paths();
            assert!(paths.len() >= 5, "{paths:?}");
            // Every segment is named after its first transaction and, when preallocated,
            // keeps its size.
            for segment in &wal.segments {
                let data = fs::read(&segment.path).unwrap();
                match decode(&data, segment.first) {
                    Decoded::Record {
                        record: Record::Txn { revision, .. },
                        ..
                    } => {
                        assert_eq!(revision, segment.first);
                    }
                    other => panic!("{other:?}"),
                }
                if preallocate {
                    assert_eq!(data.len(), 300);
                } else {
                    assert!(data.len() <= 300);
                }
            }
            let second = wal.segments[1].first;
            let third = wal.segments[2].first;
            // Revision `third - 2` is in the second segment: only the first goes.
            wal.release_through(third - 2).unwrap();
            assert_eq!(wal.segments[0].first, second);
            assert!(!paths[0].exists() && paths[1].exists());
            wal.release_through(third - 1).unwrap();
            assert_eq!(wal.segments[0].first, third);
            // The active segment always stays.
            wal.release_through(1000).unwrap();
            assert_eq!(wal.segment_paths(), vec![paths.last().unwrap().clone()]);
            drop(wal);
            // A snapshot at 40 makes the remaining log enough.
            let (mut wal, replayed) = Wal::open(dir.path(), 40, cfg).unwrap();
            assert!(replayed.is_empty());
            wal.append(&mut enc(&[txn(41)]), 41).unwrap();
            wal.sync().unwrap();
            drop(wal);
            let (_, replayed) = Wal::open(dir.path(), 40, cfg).unwrap();
            assert_eq!(replayed, vec![txn(41)]);
            // Without the snapshot, the released revisions are missing.
            let (file, offset, reason) = expect_corrupt(Wal::open(dir.path(), 0, cfg));
            assert_eq!(offset, 0);
            assert_eq!(file, *paths.last().unwrap());
            assert!(reason.contains("missing"), "{reason}");
        }
    }

    #[test]
    fn released_segments_are_reused_and_their_old_records_never_replay() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(300, true);
        let free_files = |dir: &Path| {
            fs::read_dir(dir)
                .unwrap()
                .filter(|e| {
                    let name = e.as_ref().unwrap().file_name();
                    name.to_string_lossy().starts_with(FREE_SEGMENT_PREFIX)
                })
                .count()
        };
        let records: Vec<Record> = (1..=40).map(txn).collect();
        let mut wal = write_log(dir.path(), cfg, 0, &records);
        let segments = wal.segments.len();
        assert!(segments > RECYCLED_MAX + 1, "{segments} segments");
        // A snapshot at 40: every full segment goes, and the first few are kept for reuse.
        wal.release_through(40).unwrap();
        assert_eq!(wal.segments.len(), 1);
        assert_eq!(wal.free.len(), RECYCLED_MAX);
        assert_eq!(free_files(dir.path()), RECYCLED_MAX);
        // The next segments are the free ones, old records and all, and need no zero-fill.
        let mut more = Vec::new();
        let mut revision = 40;
        while wal.free.len() > 1 {
            revision += 1;
            more.push(txn(revision));
            wal.append(&mut enc(&[txn(revision)]), revision).unwrap();
        }
        wal.sync().unwrap();
        assert_eq!(wal.segments.len(), RECYCLED_MAX);
        assert!(!dir.path().join(NEXT_SEGMENT).exists(), "no zero-fill");
        let reused = wal.segments[1].path.clone();
        let data = fs::read(&reused).unwrap();
        assert_eq!(data.len(), 300);
        drop(wal);
        // Only the new records replay: the old ones fail the new segment's checks.
        let (_, replayed) = Wal::open(dir.path(), 40, cfg).unwrap();
        assert_eq!(replayed, more);
        assert_eq!(
            free_files(dir.path()),
            0,
            "free segments are dropped on open"
        );

        // A torn write in a reused segment loses that write only.
        let (wal, _) = Wal::open(dir.path(), 40, cfg).unwrap();
        let last = wal.segments.last().unwrap();
        let (path, first) = (last.path.clone(), last.first);
        drop(wal);
        let mut data = fs::read(&path).unwrap();
        let end = enc(&more[usize::try_from(first - 41).unwrap()..]).len();
        data[end - 5] ^= 0xff;
        fs::write(&path, &data).unwrap();
        let (_, replayed) = Wal::open(dir.path(), 40, cfg).unwrap();
        assert_eq!(replayed, more[..more.len() - 1]);
    }

    #[test]
    fn a_log_from_before_segment_checksums_is_refused_not_discarded() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(4096, false);
        let path = dir.path().join(segment_name(1));
        let mut old = Vec::new();
        for r in [txn(1), txn(2)] {
            let mut frame = enc(&[r]);
            let body_crc = crc32c::crc32c(&frame[HEADER_BYTES..]);
            frame[4..HEADER_BYTES].copy_from_slice(&body_crc.to_le_bytes());
            old.extend_from_slice(&frame);
        }
        fs::write(&path, &old).unwrap();
        let (file, offset, reason) = expect_corrupt(Wal::open(dir.path(), 0, cfg));
        assert_eq!((file, offset), (path.clone(), 0));
        assert!(reason.contains("earlier build"), "{reason}");
        assert_eq!(fs::read(&path).unwrap(), old, "nothing discarded");
    }

    #[test]
    fn torn_tail_at_every_offset_is_discarded() {
        for preallocate in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let cfg = config(4096, preallocate);
            let records: Vec<Record> = (1..=5).map(txn).collect();
            drop(write_log(dir.path(), cfg, 0, &records));
            let path = dir.path().join(segment_name(1));
            let original = fs::read(&path).unwrap();
            let last_len = enc(&records[4..]).len();
            let end = enc(&records).len();
            let start = end - last_len;
            for cut in start..end {
                let case = tempfile::tempdir().unwrap();
                let case_path = case.path().join(segment_name(1));
                let mut torn = original.clone();
                if preallocate {
                    // Preallocated: the unwritten part of the record is still zeros.
                    torn[cut..end].fill(0);
                } else {
                    torn.truncate(cut);
                }
                fs::write(&case_path, &torn).unwrap();
                let (mut wal, replayed) =
                    Wal::open(case.path(), 0, cfg).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
                assert_eq!(replayed, records[..4], "cut at {cut}");
                // The next append lands at a clean offset and survives a reopen.
                let redo = Record::Txn {
                    revision: 5,
                    ops: vec![put("/k", "again")],
                };
                wal.append(&mut enc(std::slice::from_ref(&redo)), 5)
                    .unwrap();
                wal.sync().unwrap();
                drop(wal);
                let (_, replayed) = Wal::open(case.path(), 0, cfg).unwrap();
                assert_eq!(replayed.len(), 5, "cut at {cut}");
                assert_eq!(replayed[4], redo);
            }
        }
    }

    #[test]
    fn torn_last_segment_after_full_ones() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(300, true);
        let records: Vec<Record> = (1..=20).map(txn).collect();
        let wal = write_log(dir.path(), cfg, 0, &records);
        let last = wal.segment_paths().pop().unwrap();
        let first_in_last = wal.segments.last().unwrap().first;
        drop(wal);
        let mut data = fs::read(&last).unwrap();
        // Tear the last record of the last segment in its middle.
        let end = enc(&records[(first_in_last - 1) as usize..]).len();
        let mid = end - 10;
        data[mid..end].fill(0);
        fs::write(&last, &data).unwrap();
        let (_, replayed) = Wal::open(dir.path(), 0, cfg).unwrap();
        assert_eq!(replayed, records[..19]);
    }

    #[test]
    fn bit_flip_in_a_non_tail_record_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(4096, true);
        let records: Vec<Record> = (1..=5).map(txn).collect();
        drop(write_log(dir.path(), cfg, 0, &records));
        let path = dir.path().join(segment_name(1));
        let original = fs::read(&path).unwrap();
        let record_len = enc(&records[..1]).len();
        // Record 3 (offset 2 * len), in its header, its body and its last byte.
        for at in [
            2 * record_len,
            2 * record_len + 4,
            2 * record_len + 20,
            3 * record_len - 1,
        ] {
            let mut data = original.clone();
            data[at] ^= 0x10;
            fs::write(&path, &data).unwrap();
            let (file, offset, reason) = expect_corrupt(Wal::open(dir.path(), 0, cfg));
            assert_eq!(file, path);
            assert_eq!(offset, (2 * record_len) as u64, "flip at {at}: {reason}");
            assert!(reason.contains("followed by a valid record"), "{reason}");
        }
    }

    #[test]
    fn damage_in_an_earlier_segment_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(300, true);
        let records: Vec<Record> = (1..=20).map(txn).collect();
        let wal = write_log(dir.path(), cfg, 0, &records);
        let paths = wal.segment_paths();
        let second_first = wal.segments[1].first;
        drop(wal);
        // Flip a bit in the last record of the first segment: its tail, but not the log's.
        let end = enc(&records[..(second_first - 1) as usize]).len();
        let record_len = enc(&records[..1]).len();
        let mut data = fs::read(&paths[0]).unwrap();
        data[end - 3] ^= 1;
        fs::write(&paths[0], &data).unwrap();
        let (file, offset, _) = expect_corrupt(Wal::open(dir.path(), 0, cfg));
        assert_eq!(
            (file, offset),
            (paths[0].clone(), (end - record_len) as u64)
        );
        // Zeroing it (as a torn write would) is no better outside the last segment.
        data[end - record_len..end].fill(0);
        fs::write(&paths[0], &data).unwrap();
        let (file, offset, reason) = expect_corrupt(Wal::open(dir.path(), 0, cfg));
        assert_eq!((file, offset), (paths[1].clone(), 0), "{reason}");
        // Bytes after the end marker of a full segment (a recycled segment's old contents)
        // do not hide the loss either.
        data[end - 1] = 7;
        fs::write(&paths[0], &data).unwrap();
        let (file, offset, reason) = expect_corrupt(Wal::open(dir.path(), 0, cfg));
        assert_eq!((file, offset), (paths[1].clone(), 0), "{reason}");
    }

    #[test]
    fn garbage_after_the_end_marker() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(4096, true);
        let records: Vec<Record> = (1..=3).map(txn).collect();
        drop(write_log(dir.path(), cfg, 0, &records));
        let path = dir.path().join(segment_name(1));
        let end = enc(&records).len();
        let mut data = fs::read(&path).unwrap();
        // After the end marker: a fragment, and whole records of another segment (what a
        // recycled segment holds). They are not this log's, and appends overwrite them.
        data[end + 100] = 0x42;
        let stale = enc_in(&[txn(4), txn(5)], 2);
        data[end + 200..end + 200 + stale.len()].copy_from_slice(&stale);
        fs::write(&path, &data).unwrap();
        let (mut wal, replayed) = Wal::open(dir.path(), 0, cfg).unwrap();
        assert_eq!(replayed, records);
        wal.append(&mut enc(&[txn(4)]), 4).unwrap();
        wal.sync().unwrap();
        drop(wal);
        let (_, replayed) = Wal::open(dir.path(), 0, cfg).unwrap();
        assert_eq!(replayed, (1..=4).map(txn).collect::<Vec<_>>());
        // A whole valid record of this segment after a gap of zeros is not a torn write.
        let end = enc(&(1..=4).map(txn).collect::<Vec<_>>()).len();
        let mut data = fs::read(&path).unwrap();
        let stray = enc_in(&[txn(5)], 1);
        data[end + 64..end + 64 + stray.len()].copy_from_slice(&stray);
        fs::write(&path, &data).unwrap();
        let (file, offset, reason) = expect_corrupt(Wal::open(dir.path(), 0, cfg));
        assert_eq!((file, offset), (path, end as u64));
        assert!(reason.contains("valid record"), "{reason}");
    }

    #[test]
    fn a_damaged_tail_full_of_noise_is_scanned_in_linear_time() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(4 << 20, true);
        let records: Vec<Record> = (1..=3).map(txn).collect();
        drop(write_log(dir.path(), cfg, 0, &records));
        let path = dir.path().join(segment_name(1));
        let mut data = fs::read(&path).unwrap();
        let end = enc(&records).len();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for b in &mut data[end..] {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        fs::write(&path, &data).unwrap();
        let started = std::time::Instant::now();
        let (_, replayed) = Wal::open(dir.path(), 0, cfg).unwrap();
        assert_eq!(replayed, records);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn revision_gap_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(4096, false);
        let records = [txn(1), txn(2), txn(4)];
        drop(write_log(dir.path(), cfg, 0, &records));
        let (file, offset, reason) = expect_corrupt(Wal::open(dir.path(), 0, cfg));
        assert_eq!(file, dir.path().join(segment_name(1)));
        assert_eq!(offset, enc(&records[..2]).len() as u64);
        assert!(reason.contains("expected revision 3"), "{reason}");
    }

    #[test]
    fn compaction_beyond_the_current_revision_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(4096, false);
        drop(write_log(
            dir.path(),
            cfg,
            0,
            &[txn(1), Record::Compact { revision: 2 }],
        ));
        let (_, offset, _) = expect_corrupt(Wal::open(dir.path(), 0, cfg));
        assert_eq!(offset, enc(&[txn(1)]).len() as u64);
    }

    #[test]
    fn missing_segment_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(300, false);
        let records: Vec<Record> = (1..=20).map(txn).collect();
        let wal = write_log(dir.path(), cfg, 0, &records);
        let paths = wal.segment_paths();
        drop(wal);
        fs::remove_file(&paths[1]).unwrap();
        let (file, offset, reason) = expect_corrupt(Wal::open(dir.path(), 0, cfg));
        assert_eq!((file, offset), (paths[2].clone(), 0));
        assert!(reason.contains("missing"), "{reason}");
        // A snapshot covering the hole makes it harmless.
        let third = parse_segment_name(paths[2].file_name().unwrap().to_str().unwrap());
        let third = third.unwrap().unwrap();
        let (_, replayed) = Wal::open(dir.path(), third - 1, cfg).unwrap();
        assert_eq!(replayed, records[(third - 1) as usize..]);
    }

    #[test]
    fn revisions_at_the_end_of_the_range_do_not_overflow() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(4096, false);
        let path = dir.path().join(segment_name(i64::MAX));
        fs::write(&path, enc_in(&[txn(i64::MAX), txn(i64::MAX)], i64::MAX)).unwrap();
        let (file, offset, reason) = expect_corrupt(Wal::open(dir.path(), i64::MAX - 1, cfg));
        assert_eq!((file, offset), (path, enc(&[txn(i64::MAX)]).len() as u64));
        assert!(reason.contains("9223372036854775808"), "{reason}");
    }

    #[test]
    fn malformed_segment_name_is_corruption() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("wal-12.log"), b"").unwrap();
        let (file, _, _) = expect_corrupt(Wal::open(dir.path(), 0, WalConfig::default()));
        assert_eq!(file, dir.path().join("wal-12.log"));
    }

    #[test]
    fn snapshot_ahead_of_the_log() {
        // The log's unsynced end was lost but a snapshot at 10 was written.
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(4096, true);
        let records: Vec<Record> = (1..=5).map(txn).collect();
        drop(write_log(dir.path(), cfg, 0, &records));
        let (mut wal, replayed) = Wal::open(dir.path(), 10, cfg).unwrap();
        assert!(replayed.is_empty());
        assert!(dir.path().join(segment_name(11)).exists());
        wal.append(&mut enc(&[txn(11)]), 11).unwrap();
        wal.sync().unwrap();
        drop(wal);
        let (_, replayed) = Wal::open(dir.path(), 10, cfg).unwrap();
        assert_eq!(replayed, vec![txn(11)]);
        // Without the snapshot, 6..=10 are missing.
        let (file, offset, _) = expect_corrupt(Wal::open(dir.path(), 0, cfg));
        assert_eq!((file, offset), (dir.path().join(segment_name(11)), 0));
    }

    #[test]
    fn compact_records_after_the_snapshot_are_replayed() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(4096, false);
        let records = [
            txn(1),
            Record::Compact { revision: 1 },
            txn(2),
            txn(3),
            Record::Compact { revision: 2 },
        ];
        drop(write_log(dir.path(), cfg, 0, &records));
        let (_, replayed) = Wal::open(dir.path(), 2, cfg).unwrap();
        assert_eq!(replayed, vec![txn(3), Record::Compact { revision: 2 }]);
        let (_, replayed) = Wal::open(dir.path(), 0, cfg).unwrap();
        assert_eq!(replayed, records);
    }

    #[test]
    fn append_refuses_bad_frames() {
        let dir = tempfile::tempdir().unwrap();
        let (mut wal, _) = Wal::open(dir.path(), 0, config(4096, false)).unwrap();
        let full = enc(&[txn(1)]);
        assert!(matches!(
            wal.append(&mut full[..full.len() - 1].to_vec(), 1),
            Err(StoreError::InvalidArgument(_))
        ));
        let mut huge = ((MAX_RECORD_BYTES + 1) as u32).to_le_bytes().to_vec();
        huge.extend_from_slice(&[0; 12]);
        assert!(matches!(
            wal.append(&mut huge, 1),
            Err(StoreError::TooLarge { .. })
        ));
        // Still usable: those were refused before any write.
        wal.append(&mut full.clone(), 1).unwrap();
        wal.sync().unwrap();
    }

    #[test]
    fn a_batch_larger_than_a_segment_gets_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = config(200, true);
        let records: Vec<Record> = (1..=10).map(txn).collect();
        let (mut wal, _) = Wal::open(dir.path(), 0, cfg).unwrap();
        wal.append(&mut enc(&records[..1]), 1).unwrap();
        wal.append(&mut enc(&records[1..]), 10).unwrap();
        wal.sync().unwrap();
        assert_eq!(wal.segments.len(), 2);
        assert_eq!(wal.segments[1].first, 2);
        drop(wal);
        let (_, replayed) = Wal::open(dir.path(), 0, cfg).unwrap();
        assert_eq!(replayed, records);
    }
}
