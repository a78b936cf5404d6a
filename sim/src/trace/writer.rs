//! [`TraceWriter`]: writes requests as Strata CSV or oracleGeneral, plain or
//! zstd-compressed, streaming in bounded memory.
//!
//! Compressed output is a sequence of independent zstd frames, one per
//! [`FRAME_BYTES`] of uncompressed data (the `zstd` tool and
//! [`super::TraceReader`] read such files as one stream).

use std::io::{self, Write};

use ruzstd::encoding::{CompressionLevel, compress};

use super::{Compression, Request, TraceError, TraceFormat};

/// Uncompressed bytes per zstd frame.
pub const FRAME_BYTES: usize = 4 << 20;

/// The CSV header line written by [`TraceWriter`].
pub const CSV_HEADER: &str = "timestamp,key,op,size,ttl\n";

/// Writes a trace. Call [`TraceWriter::finish`] at the end: dropping the
/// writer loses the last buffered chunk.
pub struct TraceWriter<W: Write> {
    out: W,
    format: TraceFormat,
    compression: Compression,
    buf: Vec<u8>,
    written: u64,
}

impl<W: Write> TraceWriter<W> {
    /// A writer of `format` (CSV or oracleGeneral) compressed with
    /// `compression` (none or zstd) into `out`. The CSV header is written
    /// first.
    ///
    /// # Errors
    /// [`TraceError::FormatName`] for a format or compression it cannot write.
    pub fn new(out: W, format: TraceFormat, compression: Compression) -> Result<Self, TraceError> {
        if !matches!(format, TraceFormat::Csv | TraceFormat::OracleGeneral) {
            return Err(TraceError::FormatName {
                name: format!("{format} (only csv and oracle-general can be written)"),
            });
        }
        if compression == Compression::Xz {
            return Err(TraceError::FormatName { name: "xz (only zstd compression can be written)".into() });
        }
        let mut buf = Vec::with_capacity(FRAME_BYTES + 256);
        if format == TraceFormat::Csv {
            buf.extend_from_slice(CSV_HEADER.as_bytes());
        }
        Ok(Self { out, format, compression, buf, written: 0 })
    }

    /// Appends one request. oracleGeneral stores whole seconds
    /// (`time_ns / 1e9`, saturated to `u32`) and `-1` (unknown) as the next
    /// access; it has no op or TTL.
    ///
    /// # Errors
    /// An I/O error of the underlying writer.
    pub fn write(&mut self, r: &Request) -> io::Result<()> {
        match self.format {
            TraceFormat::OracleGeneral => {
                let secs = u32::try_from(r.time_ns / 1_000_000_000).unwrap_or(u32::MAX);
                self.buf.extend_from_slice(&secs.to_le_bytes());
                self.buf.extend_from_slice(&r.key.to_le_bytes());
                self.buf.extend_from_slice(&r.size.to_le_bytes());
                self.buf.extend_from_slice(&(-1i64).to_le_bytes());
            }
            _ => {
                write!(self.buf, "{},{},{},{},", r.time_ns, r.key, r.op, r.size)?;
                if let Some(ttl) = r.ttl {
                    write!(self.buf, "{ttl}")?;
                }
                self.buf.push(b'\n');
            }
        }
        self.written += 1;
        if self.buf.len() >= FRAME_BYTES {
            self.flush_chunk()?;
        }
        Ok(())
    }

    /// Requests written so far.
    #[must_use]
    pub fn written(&self) -> u64 {
        self.written
    }

    fn flush_chunk(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        match self.compression {
            Compression::Zstd => {
                let mut frame = Vec::with_capacity(self.buf.len() / 3);
                compress(&self.buf[..], &mut frame, CompressionLevel::Fastest);
                self.out.write_all(&frame)?;
            }
            _ => self.out.write_all(&self.buf)?,
        }
        self.buf.clear();
        Ok(())
    }

    /// Writes what is buffered, flushes and returns the inner writer.
    ///
    /// # Errors
    /// An I/O error of the underlying writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_chunk()?;
        self.out.flush()?;
        Ok(self.out)
    }
}
