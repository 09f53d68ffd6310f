//! Fuzzes the write-ahead log's record decoder the way recovery walks a segment: any bytes
//! must decode to records, an end marker or an invalid record — never a panic or a huge
//! allocation — and every record that decodes must re-encode to exactly its bytes.
//!
//! Random bytes rarely pass the checksum, so each input is also tried with the checksum of
//! every frame recomputed, which hands arbitrary bodies to the body parser.

#![no_main]

use kubernaut_store::embedded::fuzzing::{decode_and_reencode, unplaced_checksum};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = decode_and_reencode(data) {
        panic!("{e}");
    }
    let mut fixed = data.to_vec();
    let mut offset = 0;
    while offset + 8 <= fixed.len() {
        let header = &fixed[offset..offset + 8];
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
        if len == 0 || len > fixed.len() - offset - 8 {
            break;
        }
        let crc = unplaced_checksum(&fixed[offset + 8..offset + 8 + len]);
        fixed[offset + 4..offset + 8].copy_from_slice(&crc.to_le_bytes());
        offset += 8 + len;
    }
    if let Err(e) = decode_and_reencode(&fixed) {
        panic!("{e}");
    }
});
