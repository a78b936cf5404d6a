//! Trace formats and compressions, and telling them from a file name.

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use super::TraceError;

/// A trace format. See the [module docs](super) for each layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceFormat {
    /// Strata's CSV: `timestamp,key,op,size,ttl`.
    Csv,
    /// libCacheSim's `oracleGeneral` binary: 24 bytes a request.
    OracleGeneral,
    /// Twitter's cache-trace CSV: `timestamp,key,key_size,value_size,client_id,operation,ttl`.
    Twitter,
    /// Plain text: one key per line.
    Text,
    /// cache2k's binary traces: big-endian `i32` keys, 4 bytes a request.
    Cache2k,
}

impl TraceFormat {
    /// Every format.
    pub const ALL: [TraceFormat; 5] = [
        TraceFormat::Csv,
        TraceFormat::OracleGeneral,
        TraceFormat::Twitter,
        TraceFormat::Text,
        TraceFormat::Cache2k,
    ];

    /// The accepted names, for messages.
    pub const NAMES: &'static str = "csv, oracle-general, twitter, text, cache2k";

    /// The canonical name (what [`FromStr`] accepts and [`fmt::Display`] prints).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Csv => "csv",
            TraceFormat::OracleGeneral => "oracle-general",
            TraceFormat::Twitter => "twitter",
            TraceFormat::Text => "text",
            TraceFormat::Cache2k => "cache2k",
        }
    }

    /// Whether requests carry timestamps. Formats without them space the
    /// requests [`super::UNTIMED_SPACING_NS`] apart instead (100,000 a
    /// second).
    #[must_use]
    pub fn has_timestamps(self) -> bool {
        matches!(self, TraceFormat::Csv | TraceFormat::OracleGeneral | TraceFormat::Twitter)
    }

    /// Whether requests carry object sizes (others have size 1).
    #[must_use]
    pub fn has_sizes(self) -> bool {
        matches!(self, TraceFormat::Csv | TraceFormat::OracleGeneral | TraceFormat::Twitter)
    }

    /// The format a file name implies, after removing a compression
    /// extension: `*.twitter.csv` → Twitter, `*.csv` → CSV,
    /// `*.oracleGeneral` / `*.oracleGeneral.bin` / `*.bin` → oracleGeneral,
    /// `*.txt` → text, `*.trace` → cache2k (case-insensitive).
    #[must_use]
    pub fn from_file_name(name: &str) -> Option<TraceFormat> {
        let lower = name.to_ascii_lowercase();
        let (stem, _) = Compression::split(&lower);
        if stem.ends_with(".twitter.csv") {
            Some(TraceFormat::Twitter)
        } else if stem.ends_with(".csv") {
            Some(TraceFormat::Csv)
        } else if stem.ends_with(".oraclegeneral") || stem.ends_with(".bin") {
            Some(TraceFormat::OracleGeneral)
        } else if stem.ends_with(".txt") {
            Some(TraceFormat::Text)
        } else if stem.ends_with(".trace") {
            Some(TraceFormat::Cache2k)
        } else {
            None
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for TraceFormat {
    type Err = TraceError;

    /// Case-insensitive; `-` and `_` are ignored (`oracleGeneral`,
    /// `oracle_general`, `oracle-general` are one name); `txt` means text.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let norm: String =
            s.chars().filter(|c| *c != '-' && *c != '_').map(|c| c.to_ascii_lowercase()).collect();
        match norm.as_str() {
            "csv" => Ok(TraceFormat::Csv),
            "oraclegeneral" => Ok(TraceFormat::OracleGeneral),
            "twitter" => Ok(TraceFormat::Twitter),
            "text" | "txt" => Ok(TraceFormat::Text),
            "cache2k" => Ok(TraceFormat::Cache2k),
            _ => Err(TraceError::FormatName { name: s.to_owned() }),
        }
    }
}

/// How a trace file is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Not compressed.
    #[default]
    None,
    /// Zstandard (`.zst`), decoded by `ruzstd` (pure Rust, streaming, multi-frame).
    Zstd,
    /// xz (`.xz`), decoded by `lzma-rust2` (pure Rust, streaming).
    Xz,
}

impl Compression {
    /// The compression a file name implies (`.zst`, `.zstd`, `.xz`; case-insensitive).
    #[must_use]
    pub fn from_file_name(name: &str) -> Compression {
        Compression::split(&name.to_ascii_lowercase()).1
    }

    /// Splits a lower-case name into (name without the compression extension, compression).
    fn split(lower: &str) -> (&str, Compression) {
        for (ext, c) in [(".zst", Compression::Zstd), (".zstd", Compression::Zstd), (".xz", Compression::Xz)]
        {
            if let Some(stem) = lower.strip_suffix(ext) {
                return (stem, c);
            }
        }
        (lower, Compression::None)
    }
}

/// The format and compression of `path`: `format` when given, otherwise
/// from the file name.
///
/// # Errors
/// [`TraceError::UnknownFormat`] when no format is given and the name implies none.
pub fn detect(path: &Path, format: Option<TraceFormat>) -> Result<(TraceFormat, Compression), TraceError> {
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let compression = Compression::from_file_name(&name);
    match format.or_else(|| TraceFormat::from_file_name(&name)) {
        Some(f) => Ok((f, compression)),
        None => Err(TraceError::UnknownFormat { file: path.display().to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_aliases() {
        for f in TraceFormat::ALL {
            assert_eq!(f.name().parse::<TraceFormat>().unwrap(), f);
            assert!(TraceFormat::NAMES.contains(f.name()));
        }
        assert_eq!("oracleGeneral".parse::<TraceFormat>().unwrap(), TraceFormat::OracleGeneral);
        assert_eq!("ORACLE_general".parse::<TraceFormat>().unwrap(), TraceFormat::OracleGeneral);
        assert_eq!("txt".parse::<TraceFormat>().unwrap(), TraceFormat::Text);
        let e = "parquet".parse::<TraceFormat>().unwrap_err().to_string();
        assert!(e.contains("\"parquet\"") && e.contains("oracle-general"), "{e}");
    }

    #[test]
    fn detection_from_names() {
        let d = |n: &str| detect(Path::new(n), None).ok();
        assert_eq!(d("a/x.csv"), Some((TraceFormat::Csv, Compression::None)));
        assert_eq!(d("x.csv.zst"), Some((TraceFormat::Csv, Compression::Zstd)));
        assert_eq!(d("c52.twitter.csv.zst"), Some((TraceFormat::Twitter, Compression::Zstd)));
        assert_eq!(d("w.oracleGeneral.zst"), Some((TraceFormat::OracleGeneral, Compression::Zstd)));
        assert_eq!(d("w.oracleGeneral.bin"), Some((TraceFormat::OracleGeneral, Compression::None)));
        assert_eq!(d("k.TXT"), Some((TraceFormat::Text, Compression::None)));
        assert_eq!(d("web07.trace.xz"), Some((TraceFormat::Cache2k, Compression::Xz)));
        assert!(d("x.parquet").is_none());
        let e = detect(Path::new("dir/x.parquet"), None).unwrap_err().to_string();
        assert!(e.starts_with("dir/x.parquet: cannot tell"), "{e}");
        assert_eq!(
            detect(Path::new("x.parquet.zst"), Some(TraceFormat::Text)).unwrap(),
            (TraceFormat::Text, Compression::Zstd)
        );
    }
}
