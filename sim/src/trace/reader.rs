//! [`TraceReader`]: a streaming iterator of [`Request`]s over any `Read`.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use super::lines::{is_header, parse_csv, parse_text, parse_twitter, untimed};
use super::{Compression, DecodeError, Decoder, Op, Request, TraceError, TraceFormat};

const NS_PER_SEC: u64 = 1_000_000_000;
const BUFFER: usize = 256 * 1024;

/// Longest line of a text format, in bytes (without its line end). Generous:
/// the fields besides the key take under 100 bytes and keys are short in
/// practice (memcached allows 250 bytes, URLs rarely pass 8 KiB); the cap
/// only bounds the one line the reader holds, so that a stream without
/// newlines (say, a small compressed file expanding to gigabytes) cannot
/// exhaust memory.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// Options of a [`TraceReader`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderOptions {
    /// Skip unparsable lines (and a truncated final binary record) instead
    /// of stopping with an error; [`TraceReader::skipped`] counts them.
    /// Read and decompression errors always stop the reader.
    pub skip_bad: bool,
}

/// Streams the requests of a trace: one buffered chunk and one line in
/// memory at a time. Yields `Err` once, on the first fatal error, and then
/// `None`.
pub struct TraceReader<R: Read> {
    src: BufReader<Decoder<R>>,
    format: TraceFormat,
    file: String,
    opts: ReaderOptions,
    line: u64,
    offset: u64,
    index: u64,
    buf: Vec<u8>,
    /// The last line ended with `\r`: a `\n` right after it belongs to it.
    after_cr: bool,
    skipped: u64,
    first_skipped: Option<TraceError>,
    done: bool,
}

/// Opens the trace at `path`: the format is `format` or told from the
/// file name, the compression from the extension (see [`super::detect`]).
///
/// # Errors
/// [`TraceError::UnknownFormat`] or [`TraceError::Open`].
pub fn open(
    path: &Path,
    format: Option<TraceFormat>,
    opts: ReaderOptions,
) -> Result<TraceReader<File>, TraceError> {
    let (format, compression) = super::detect(path, format)?;
    let file =
        File::open(path).map_err(|source| TraceError::Open { file: path.display().to_string(), source })?;
    Ok(TraceReader::new(file, format, compression, path.display().to_string(), opts))
}

impl<R: Read> TraceReader<R> {
    /// Reads `reader` (compressed with `compression`) as `format`; `name`
    /// is the file name used in errors.
    #[must_use]
    pub fn new(
        reader: R,
        format: TraceFormat,
        compression: Compression,
        name: impl Into<String>,
        opts: ReaderOptions,
    ) -> Self {
        Self {
            src: BufReader::with_capacity(BUFFER, Decoder::new(reader, compression)),
            format,
            file: name.into(),
            opts,
            line: 0,
            offset: 0,
            index: 0,
            buf: Vec::with_capacity(256),
            after_cr: false,
            skipped: 0,
            first_skipped: None,
            done: false,
        }
    }

    /// The format being read.
    #[must_use]
    pub fn format(&self) -> TraceFormat {
        self.format
    }

    /// The file name used in errors.
    #[must_use]
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Bad lines (or a truncated final record) skipped so far (with
    /// [`ReaderOptions::skip_bad`]).
    #[must_use]
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The error of the first skipped line, to show what was skipped.
    #[must_use]
    pub fn first_skipped(&self) -> Option<&TraceError> {
        self.first_skipped.as_ref()
    }

    /// Requests yielded so far.
    #[must_use]
    pub fn requests(&self) -> u64 {
        self.index
    }

    /// Decompressed bytes consumed so far.
    #[must_use]
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn read_error(&self, source: io::Error) -> TraceError {
        let (file, offset) = (self.file.clone(), self.offset);
        match source.get_ref().and_then(|e| e.downcast_ref::<DecodeError>()) {
            Some(e) => TraceError::Decode { file, offset, source: e.clone() },
            None => TraceError::Read { file, offset, source },
        }
    }

    /// Records a skippable error: `Ok` when skipping, the error otherwise.
    fn bad(&mut self, err: TraceError) -> Result<(), TraceError> {
        if !self.opts.skip_bad {
            return Err(err);
        }
        self.skipped += 1;
        if self.first_skipped.is_none() {
            self.first_skipped = Some(err);
        }
        Ok(())
    }

    /// Reads the next line into `buf`, without its end: `\n`, `\r\n` or a
    /// lone `\r` (classic Mac OS). Returns `None` at the end of the stream,
    /// else whether the line was longer than [`MAX_LINE_BYTES`] (then `buf`
    /// holds its first bytes and the rest is consumed).
    fn read_line(&mut self) -> Result<Option<bool>, TraceError> {
        self.buf.clear();
        let mut consumed = false;
        loop {
            let chunk = match self.src.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.read_error(e)),
            };
            if self.after_cr {
                // The `\n` of a `\r\n` (its `\r` ended the last line).
                self.after_cr = false;
                if chunk.first() == Some(&b'\n') {
                    self.src.consume(1);
                    self.offset += 1;
                    continue;
                }
            }
            if chunk.is_empty() {
                return Ok(consumed.then_some(false));
            }
            consumed = true;
            let end = chunk.iter().position(|&b| b == b'\n' || b == b'\r');
            let part = end.unwrap_or(chunk.len());
            if part > MAX_LINE_BYTES - self.buf.len() {
                // Left unread: [`Self::skip_rest_of_line`] skips it, if asked.
                return Ok(Some(true));
            }
            self.buf.extend_from_slice(&chunk[..part]);
            let used = end.map_or(part, |i| i + 1);
            if let Some(i) = end {
                self.after_cr = chunk[i] == b'\r';
            }
            self.src.consume(used);
            self.offset += used as u64;
            if end.is_some() {
                return Ok(Some(false));
            }
        }
    }

    /// Consumes the rest of an over-long line, through its end.
    fn skip_rest_of_line(&mut self) -> Result<(), TraceError> {
        loop {
            let chunk = match self.src.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.read_error(e)),
            };
            if chunk.is_empty() {
                return Ok(());
            }
            let end = chunk.iter().position(|&b| b == b'\n' || b == b'\r');
            let used = end.map_or(chunk.len(), |i| i + 1);
            if let Some(i) = end {
                self.after_cr = chunk[i] == b'\r';
            }
            self.src.consume(used);
            self.offset += used as u64;
            if end.is_some() {
                return Ok(());
            }
        }
    }

    fn next_line(&mut self) -> Result<Option<Request>, TraceError> {
        loop {
            let Some(too_long) = self.read_line()? else {
                return Ok(None);
            };
            self.line += 1;
            if too_long {
                let err = TraceError::Line {
                    file: self.file.clone(),
                    line: self.line,
                    reason: format!("line longer than {MAX_LINE_BYTES} bytes"),
                };
                self.bad(err)?;
                self.skip_rest_of_line()?;
                continue;
            }
            let Ok(text) = std::str::from_utf8(&self.buf) else {
                let err = TraceError::Line {
                    file: self.file.clone(),
                    line: self.line,
                    reason: "not valid UTF-8".into(),
                };
                self.bad(err)?;
                continue;
            };
            let text = text.trim();
            if text.is_empty() {
                continue;
            }
            let parsed = match self.format {
                TraceFormat::Csv | TraceFormat::Twitter if self.line == 1 && is_header(text) => continue,
                TraceFormat::Csv if text.starts_with('#') => continue,
                TraceFormat::Csv => parse_csv(text),
                TraceFormat::Twitter => parse_twitter(text),
                _ => Ok(parse_text(text, self.index)),
            };
            match parsed {
                Ok(r) => return Ok(Some(r)),
                Err(reason) => {
                    let err = TraceError::Line { file: self.file.clone(), line: self.line, reason };
                    self.bad(err)?;
                }
            }
        }
    }

    /// Reads one fixed-size record; `Ok(None)` at a clean end.
    fn next_record<const N: usize>(&mut self) -> Result<Option<[u8; N]>, TraceError> {
        let mut rec = [0u8; N];
        let mut got = 0;
        while got < N {
            match self.src.read(&mut rec[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.read_error(e)),
            }
        }
        let at = self.offset;
        self.offset += got as u64;
        match got {
            0 => Ok(None),
            _ if got < N => {
                let err = TraceError::Truncated { file: self.file.clone(), offset: at, got, need: N };
                self.bad(err)?;
                Ok(None)
            }
            _ => Ok(Some(rec)),
        }
    }

    fn next_request(&mut self) -> Result<Option<Request>, TraceError> {
        match self.format {
            TraceFormat::Csv | TraceFormat::Twitter | TraceFormat::Text => self.next_line(),
            TraceFormat::OracleGeneral => Ok(self.next_record::<24>()?.map(|r| oracle_general(&r))),
            TraceFormat::Cache2k => {
                let index = self.index;
                Ok(self.next_record::<4>()?.map(|r| cache2k(r, index)))
            }
        }
    }
}

/// `u32` timestamp (s), `u64` object id, `u32` size, `i64` next access (ignored); little-endian.
fn oracle_general(r: &[u8; 24]) -> Request {
    let mut ts = [0u8; 4];
    let mut id = [0u8; 8];
    let mut size = [0u8; 4];
    ts.copy_from_slice(&r[0..4]);
    id.copy_from_slice(&r[4..12]);
    size.copy_from_slice(&r[12..16]);
    Request {
        time_ns: u64::from(u32::from_le_bytes(ts)) * NS_PER_SEC,
        key: u64::from_le_bytes(id),
        op: Op::Get,
        size: u32::from_le_bytes(size),
        ttl: None,
    }
}

/// A big-endian `i32` key; the key is its bit pattern as `u32`. Request
/// `index` arrives at `index` × [`super::UNTIMED_SPACING_NS`].
fn cache2k(r: [u8; 4], index: u64) -> Request {
    Request {
        time_ns: untimed(index),
        key: u64::from(u32::from_be_bytes(r)),
        op: Op::Get,
        size: 1,
        ttl: None,
    }
}

impl<R: Read> Iterator for TraceReader<R> {
    type Item = Result<Request, TraceError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_request() {
            Ok(Some(r)) => {
                self.index += 1;
                Some(Ok(r))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}
