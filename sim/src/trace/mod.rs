//! Key traces: the [`Request`] record, streaming readers of several trace
//! formats, and a writer.
//!
//! Readers never hold the whole trace: a [`TraceReader`] decompresses and
//! parses as it goes, one buffered chunk at a time, over any `Read` (a file,
//! a byte slice in the browser). Open a file with [`open`]; the format comes
//! from the file name unless given ([`detect`]), the compression from the
//! extension (`.zst` zstd, `.xz` xz; both decoded in pure Rust, streaming).
//!
//! # Formats
//!
//! | format | file name | layout |
//! | --- | --- | --- |
//! | [`TraceFormat::Csv`] | `*.csv` | text, `timestamp,key,op,size,ttl` |
//! | [`TraceFormat::Twitter`] | `*.twitter.csv` | text, `timestamp,key,key_size,value_size,client_id,operation,ttl` |
//! | [`TraceFormat::Text`] | `*.txt` | text, one key per line |
//! | [`TraceFormat::OracleGeneral`] | `*.oracleGeneral`, `*.bin` | binary, 24 bytes a request |
//! | [`TraceFormat::Cache2k`] | `*.trace` | binary, 4 bytes a request |
//!
//! Common rules of the text formats: lines end with `\n`, `\r\n` or a
//! lone `\r` (classic Mac OS; each is one line end, so line numbers and a
//! CRLF file's requests are the same as with `\n`); fields are separated by `,` and trimmed of spaces (no
//! quoting: a key cannot contain a comma); blank lines are skipped; line
//! numbers in errors count every line from 1; a line may hold at most
//! [`MAX_LINE_BYTES`] bytes. A **key** that is a decimal `u64` is that
//! number, read by value: `7`, `007` and `+7` are all key 7 (one key, not
//! three); any other key is hashed with [`strata_core::l1::hash_key`] of
//! the `str`, the same on every run and machine.
//!
//! **CSV** (Strata's own): `timestamp,key,op,size,ttl`.
//! - `timestamp`: unsigned integer, nanoseconds. Required.
//! - `key`: required.
//! - `op`: `get`, `set` or `delete`, case-insensitive; absent or empty: `get`.
//! - `size`: object size in bytes (`u32`); absent or empty: 1.
//! - `ttl`: seconds (`u32`); absent, empty or `0`: no TTL.
//! - Columns after the fifth are ignored. The first line is a header (and
//!   skipped) when its first field is `timestamp` or `time`. Lines starting
//!   with `#` are comments.
//!
//! Example:
//! ```text
//! timestamp,key,op,size,ttl
//! 0,42,get,100,
//! 1000000,user:7,set,250,3600
//! 2000000,42,delete,,
//! ```
//!
//! **Twitter** (the public Twemcache cluster traces):
//! `timestamp,key,key_size,value_size,client_id,operation,ttl`, timestamp in
//! seconds (at most `u64::MAX` nanoseconds' worth), the size of a request is `key_size + value_size`, operations
//! `get`/`gets` read, `set`/`add`/`replace`/`cas`/`append`/`prepend`/
//! `incr`/`decr` write, `delete` deletes; ttl `0` means none; `client_id`
//! is ignored.
//!
//! **Text**: the trimmed line is the key; every request is a `get` of size 1.
//!
//! **oracleGeneral** (libCacheSim): records of 24 bytes, little-endian:
//! `u32` timestamp in seconds, `u64` object id (the key), `u32` object size,
//! `i64` logical time of the next access (ignored). Every request is a `get`.
//!
//! **cache2k**: big-endian signed 32-bit keys, 4 bytes a request, no header;
//! every request is a `get` of size 1 (the key is the `i32`'s bit pattern as
//! `u32`). Usually shipped as `.trace.xz`.
//!
//! Formats without timestamps (text, cache2k) space their requests
//! [`UNTIMED_SPACING_NS`] apart ([`UNTIMED_RATE_PER_SEC`]): `time_ns` is 0,
//! 10 000, 20 000, ... ([`TraceFormat::has_timestamps`]), so that replayed
//! at the trace's times (a simulator file without `arrival`) they arrive at
//! that rate, as with no simulator file; `arrival.time_scale` scales it
//! and a rate replaces it.
//!
//! # Errors
//! A bad line is a [`TraceError::Line`] with the file, the line number and
//! the field; a binary trace ending in the middle of a record is a
//! [`TraceError::Truncated`] with the record's byte offset. With
//! [`ReaderOptions::skip_bad`] such records are skipped and counted
//! ([`TraceReader::skipped`]); read and decompression errors always stop the
//! reader. A compressed stream that ends early or does not decode is a
//! [`TraceError::Decode`] saying which, at which byte of the compressed
//! input ("the xz stream ends early (truncated file?) after 1000 bytes of
//! input").

mod decompress;
mod error;
mod format;
mod lines;
mod reader;
mod writer;

use std::fmt;
use std::str::FromStr;

pub use decompress::{DecodeError, Decoder};
pub use error::{Position, TraceError};
pub use format::{Compression, TraceFormat, detect};
pub use lines::key_of;
pub use reader::{MAX_LINE_BYTES, ReaderOptions, TraceReader, open};
pub use writer::{CSV_HEADER, FRAME_BYTES, TraceWriter};

/// Requests a second of a trace without timestamps (text, cache2k), the
/// rate its `time_ns` stand for.
pub const UNTIMED_RATE_PER_SEC: u64 = 100_000;
/// Nanoseconds between two requests of a trace without timestamps:
/// request `i` has `time_ns = i * UNTIMED_SPACING_NS`.
pub const UNTIMED_SPACING_NS: u64 = 1_000_000_000 / UNTIMED_RATE_PER_SEC;

/// What a request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// A read.
    Get,
    /// A write of the whole value.
    Set,
    /// A deletion.
    Delete,
}

impl Op {
    /// The lower-case name (`get`, `set`, `delete`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Set => "set",
            Op::Delete => "delete",
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An op name that is not `get`, `set` or `delete`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown op {0:?} (expected get, set or delete)")]
pub struct UnknownOp(pub String);

impl FromStr for Op {
    type Err = UnknownOp;

    /// Case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Op::Get, Op::Set, Op::Delete]
            .into_iter()
            .find(|op| s.eq_ignore_ascii_case(op.name()))
            .ok_or_else(|| UnknownOp(s.to_owned()))
    }
}

/// One request of a trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Request {
    /// Arrival time in nanoseconds from the start of the trace (for
    /// formats without timestamps, the request's index times
    /// [`UNTIMED_SPACING_NS`]).
    pub time_ns: u64,
    /// The key (string keys hashed, see the module docs).
    pub key: u64,
    /// What the request does.
    pub op: Op,
    /// Object size in bytes (1 where the format has none).
    pub size: u32,
    /// Time to live in seconds, if the request sets one.
    pub ttl: Option<u32>,
}

#[cfg(test)]
mod tests;
