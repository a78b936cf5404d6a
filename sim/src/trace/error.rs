//! The error of the trace readers: what went wrong and where (file, line or
//! byte offset).

use std::io;

/// An error reading a trace. Every variant names the file (or the name the
/// caller gave the stream) and, where it applies, the line (1-based, in the
/// decompressed text) or the byte offset (0-based, in the decompressed
/// stream).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// The file could not be opened.
    #[error("{file}: cannot open: {source}")]
    Open {
        /// The file.
        file: String,
        /// The cause.
        source: io::Error,
    },
    /// Reading (or decompressing) failed.
    #[error("{file}: read error at byte {offset} of the decompressed stream: {source}")]
    Read {
        /// The file.
        file: String,
        /// Decompressed bytes consumed before the failure.
        offset: u64,
        /// The cause (I/O or a corrupt compressed stream).
        source: io::Error,
    },
    /// A compressed trace could not be decoded: it ends early or is corrupt.
    #[error("{file}: {source} (read up to byte {offset} of the decompressed trace)")]
    Decode {
        /// The file.
        file: String,
        /// Decompressed bytes consumed before the failure.
        offset: u64,
        /// What is wrong, and where in the compressed input.
        source: super::DecodeError,
    },
    /// A line of a text format could not be parsed.
    #[error("{file}:{line}: {reason}")]
    Line {
        /// The file.
        file: String,
        /// The line number, 1-based.
        line: u64,
        /// What is wrong, naming the field.
        reason: String,
    },
    /// A binary trace ends in the middle of a record.
    #[error("{file}: truncated record at byte offset {offset}: {got} of {need} bytes")]
    Truncated {
        /// The file.
        file: String,
        /// Offset of the incomplete record in the decompressed stream.
        offset: u64,
        /// Bytes present.
        got: usize,
        /// Bytes a record needs.
        need: usize,
    },
    /// The format could not be told from the file name.
    #[error(
        "{file}: cannot tell the trace format from the file name; give it explicitly (one of {})",
        super::TraceFormat::NAMES
    )]
    UnknownFormat {
        /// The file.
        file: String,
    },
    /// A format name that is not one of [`super::TraceFormat::NAMES`].
    #[error("unknown trace format {name:?} (expected one of {})", super::TraceFormat::NAMES)]
    FormatName {
        /// The name given.
        name: String,
    },
}

impl TraceError {
    /// The line or byte position, for callers that report it separately.
    #[must_use]
    pub fn position(&self) -> Option<Position> {
        match self {
            TraceError::Line { line, .. } => Some(Position::Line(*line)),
            TraceError::Read { offset, .. }
            | TraceError::Decode { offset, .. }
            | TraceError::Truncated { offset, .. } => Some(Position::Byte(*offset)),
            _ => None,
        }
    }
}

/// Where in a trace an error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A line, 1-based.
    Line(u64),
    /// A byte offset in the decompressed stream, 0-based.
    Byte(u64),
}
