//! A trace loaded into memory from the bytes of a file, with its statistics.
//! Parsing and decompression are `strata-sim`'s readers; this only collects
//! the requests so that many runs can replay them.

use serde::Serialize;
use strata_sim::trace::{Compression, Op, ReaderOptions, Request, TraceFormat, TraceReader};

use crate::Progress;
use crate::error::InspectError;
use crate::stats::{StatsBuilder, TraceStats};

/// Requests between two progress reports while reading.
pub const LOAD_PROGRESS_EVERY: u64 = 50_000;

/// Most requests a loaded trace may hold: 2^25 (33,554,432). At 32 bytes a
/// request that is 1 GiB, a quarter of what wasm32 can address, and the
/// vector's doubling stops exactly there; a longer trace is an error rather
/// than an out-of-memory abort of the page.
pub const MAX_LOADED_REQUESTS: usize = 1 << 25;

/// What `load` returns to the page: the statistics and how the file was read.
#[derive(Clone, Debug, Serialize)]
pub struct LoadSummary {
    /// The file name.
    pub name: String,
    /// The format used.
    pub format: &'static str,
    /// Whether requests carry timestamps (otherwise they are replayed at a rate).
    pub has_timestamps: bool,
    /// Size of the input in bytes (compressed, as given).
    pub bytes: u64,
    /// The statistics.
    #[serde(flatten)]
    pub stats: TraceStats,
}

/// A trace in memory.
#[derive(Clone, Debug)]
pub struct LoadedTrace {
    /// What the page shows about it.
    pub summary: LoadSummary,
    /// Every request, in order.
    pub requests: Vec<Request>,
}

impl LoadedTrace {
    /// Reads the trace in `bytes`, a file called `name`: the format is
    /// `format` (a [`TraceFormat`] name) when given and not empty, otherwise
    /// told from the name; the compression (`.zst`, `.xz`) from the name.
    ///
    /// # Errors
    /// [`InspectError::Trace`] naming the file and the line or offset,
    /// [`InspectError::EmptyTrace`], or [`InspectError::TooManyRequests`]
    /// past [`MAX_LOADED_REQUESTS`].
    pub fn read(
        bytes: &[u8],
        name: &str,
        format: Option<&str>,
        progress: &mut Progress<'_>,
    ) -> Result<Self, InspectError> {
        Self::read_at_most(bytes, name, format, progress, MAX_LOADED_REQUESTS)
    }

    /// [`Self::read`] holding at most `max` requests.
    fn read_at_most(
        bytes: &[u8],
        name: &str,
        format: Option<&str>,
        progress: &mut Progress<'_>,
        max: usize,
    ) -> Result<Self, InspectError> {
        let format = match format.filter(|f| !f.is_empty()) {
            Some(f) => f.parse::<TraceFormat>()?,
            None => TraceFormat::from_file_name(name)
                .ok_or_else(|| strata_sim::trace::TraceError::UnknownFormat { file: name.to_owned() })?,
        };
        let mut reader = TraceReader::new(
            bytes,
            format,
            Compression::from_file_name(name),
            name,
            ReaderOptions::default(),
        );
        let mut requests = Vec::new();
        let mut stats = StatsBuilder::default();
        for request in reader.by_ref() {
            let request = request?;
            if requests.len() == max {
                return Err(InspectError::TooManyRequests { file: name.to_owned(), max });
            }
            stats.add(request.key, request.op != Op::Get);
            requests.push(request);
            if (requests.len() as u64).is_multiple_of(LOAD_PROGRESS_EVERY) {
                progress("reading", requests.len() as u64, 0);
            }
        }
        if requests.is_empty() {
            return Err(InspectError::EmptyTrace { file: name.to_owned() });
        }
        let summary = LoadSummary {
            name: name.to_owned(),
            format: format.name(),
            has_timestamps: format.has_timestamps(),
            bytes: bytes.len() as u64,
            stats: stats.finish(),
        };
        Ok(Self { summary, requests })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_csv_with_the_format_from_the_name_and_counts_writes() {
        let text = b"timestamp,key,op,size,ttl\n0,1,get,10,\n5,2,set,10,\n9,1,get,10,\n12,1,delete,,\n";
        let mut calls = 0;
        let t = LoadedTrace::read(text, "x.csv", None, &mut |_, _, _| calls += 1).unwrap();
        assert_eq!(t.requests.len(), 4);
        assert_eq!((t.summary.format, t.summary.has_timestamps), ("csv", true));
        assert_eq!((t.summary.stats.reads, t.summary.stats.writes, t.summary.stats.distinct_keys), (2, 2, 2));
        assert_eq!(calls, 0);
    }

    #[test]
    fn an_explicit_format_wins_and_errors_name_the_file_and_line() {
        let t = LoadedTrace::read(b"a\nb\na\n", "keys.dat", Some("text"), &mut |_, _, _| {}).unwrap();
        assert_eq!(
            (t.summary.format, t.summary.stats.requests, t.summary.stats.distinct_keys),
            ("text", 3, 2)
        );
        let e = LoadedTrace::read(b"a\n", "keys.dat", None, &mut |_, _, _| {}).unwrap_err().to_string();
        assert!(e.contains("keys.dat") && e.contains("format"), "{e}");
        let e = LoadedTrace::read(b"0,1,get\nzz,1,get\n", "bad.csv", None, &mut |_, _, _| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.csv:2"), "{e}");
        let e = LoadedTrace::read(b"", "empty.txt", None, &mut |_, _, _| {}).unwrap_err().to_string();
        assert!(e.contains("empty.txt") && e.contains("no requests"), "{e}");
        let e =
            LoadedTrace::read(b"a\n", "x.txt", Some("parquet"), &mut |_, _, _| {}).unwrap_err().to_string();
        assert!(e.contains("parquet"), "{e}");
    }

    #[test]
    fn a_trace_past_the_cap_is_an_error_not_an_abort() {
        let read = |max| LoadedTrace::read_at_most(b"a\nb\nc\n", "k.txt", None, &mut |_, _, _| {}, max);
        assert_eq!(read(3).unwrap().requests.len(), 3);
        assert_eq!(
            read(2).unwrap_err().to_string(),
            "k.txt: more than 2 requests, the most the inspector holds in memory; replay longer traces with `strata replay`, which streams them"
        );
        assert_eq!(std::mem::size_of::<Request>(), 32, "MAX_LOADED_REQUESTS assumes 32 bytes a request");
    }

    #[test]
    fn reads_the_shipped_cache2k_trace() {
        let bytes = include_bytes!("../../traces/web07.trace.xz");
        let mut reports = Vec::new();
        let t =
            LoadedTrace::read(bytes, "web07.trace.xz", None, &mut |_, done, _| reports.push(done)).unwrap();
        assert_eq!(t.summary.stats.requests, 76_118);
        assert_eq!(t.summary.format, "cache2k");
        assert!(!t.summary.has_timestamps);
        assert_eq!(reports, vec![50_000u64]);
        assert!(t.summary.stats.distinct_keys > 1000 && t.summary.stats.zipf_alpha.is_some());
    }
}
