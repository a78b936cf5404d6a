//! Parsers of one line of the text formats (CSV, Twitter, plain text).
//! They return the reason as a string naming the field; the reader adds the
//! file and line number.

use std::str::FromStr;

use strata_core::l1::hash_key;

use super::{Op, Request, UNTIMED_SPACING_NS};

const NS_PER_SEC: u64 = 1_000_000_000;

/// A key field: a decimal `u64` is the key itself, anything else is hashed
/// with [`hash_key`] (of the `str`). Decimal keys are parsed by value, so
/// spellings of one number are one key: `7`, `007` and `+7` all give key 7
/// (while `7.0` or `0x7` are hashed as strings).
#[inline]
#[must_use]
pub fn key_of(s: &str) -> u64 {
    s.parse::<u64>().unwrap_or_else(|_| hash_key(s))
}

/// Whether the first line is a header: its first field is `timestamp` or `time`.
pub(super) fn is_header(line: &str) -> bool {
    let first = line.split(',').next().unwrap_or("").trim();
    first.eq_ignore_ascii_case("timestamp") || first.eq_ignore_ascii_case("time")
}

/// The first [`MAX_FIELDS`] fields of a line, trimmed, without allocating.
struct Fields<'a> {
    f: [&'a str; MAX_FIELDS],
    n: usize,
}

/// Fields past this are ignored (no format uses more).
const MAX_FIELDS: usize = 8;

impl<'a> Fields<'a> {
    fn get(&self, i: usize) -> Option<&'a str> {
        (i < self.n.min(MAX_FIELDS)).then(|| self.f[i])
    }
}

fn field<'a>(fields: &Fields<'a>, i: usize, name: &str) -> Result<&'a str, String> {
    match fields.get(i) {
        Some(f) if !f.is_empty() => Ok(f),
        Some(_) => Err(format!("field {} ({name}) is empty", i + 1)),
        None => Err(format!("missing field {} ({name}): the line has {} field(s)", i + 1, fields.n)),
    }
}

fn number<T: FromStr>(s: &str, i: usize, name: &str) -> Result<T, String> {
    s.parse::<T>().map_err(|_| format!("field {} ({name}): {s:?} is not a valid {}", i + 1, kind::<T>()))
}

fn kind<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    match full {
        "u32" => "unsigned 32-bit integer",
        "u64" => "unsigned 64-bit integer",
        _ => "number",
    }
}

/// An optional numeric field: absent or empty → `None`.
fn optional<T: FromStr>(fields: &Fields<'_>, i: usize, name: &str) -> Result<Option<T>, String> {
    match fields.get(i) {
        None | Some("") => Ok(None),
        Some(s) => number(s, i, name).map(Some),
    }
}

fn split(line: &str) -> Fields<'_> {
    let mut fields = Fields { f: [""; MAX_FIELDS], n: 0 };
    for part in line.split(',') {
        if fields.n < MAX_FIELDS {
            fields.f[fields.n] = part.trim();
        }
        fields.n += 1;
    }
    fields
}

/// Strata's CSV: `timestamp,key,op,size,ttl` (see the module docs).
pub(super) fn parse_csv(line: &str) -> Result<Request, String> {
    let f = split(line);
    let time_ns = number::<u64>(field(&f, 0, "timestamp")?, 0, "timestamp").map_err(|e| {
        format!("{e} (the CSV's columns are timestamp,key,op,size,ttl; one key a line is the text format)")
    })?;
    let key = key_of(field(&f, 1, "key")?);
    let op = match f.get(2) {
        None | Some("") => Op::Get,
        Some(s) => s.parse::<Op>().map_err(|e| format!("field 3 (op): {e}"))?,
    };
    let size = optional::<u32>(&f, 3, "size")?.unwrap_or(1);
    let ttl = optional::<u32>(&f, 4, "ttl")?.filter(|&t| t > 0);
    Ok(Request { time_ns, key, op, size, ttl })
}

/// Twitter's cache-trace CSV:
/// `timestamp,key,key_size,value_size,client_id,operation,ttl`.
pub(super) fn parse_twitter(line: &str) -> Result<Request, String> {
    let f = split(line);
    let secs = number::<u64>(field(&f, 0, "timestamp")?, 0, "timestamp")?;
    let time_ns = secs.checked_mul(NS_PER_SEC).ok_or_else(|| {
        format!(
            "field 1 (timestamp): {secs} seconds is past what u64 nanoseconds hold (at most {} s)",
            u64::MAX / NS_PER_SEC
        )
    })?;
    let key = key_of(field(&f, 1, "key")?);
    let key_size = number::<u32>(field(&f, 2, "key_size")?, 2, "key_size")?;
    let value_size = number::<u32>(field(&f, 3, "value_size")?, 3, "value_size")?;
    let op_name = field(&f, 5, "operation")?;
    let op = twitter_op(op_name).ok_or_else(|| {
        format!(
            "field 6 (operation): unknown operation {op_name:?} (expected get, gets, set, add, replace, cas, append, prepend, incr, decr or delete)"
        )
    })?;
    let ttl = optional::<u32>(&f, 6, "ttl")?.filter(|&t| t > 0);
    Ok(Request { time_ns, key, op, size: key_size.saturating_add(value_size), ttl })
}

fn twitter_op(s: &str) -> Option<Op> {
    const READS: [&str; 2] = ["get", "gets"];
    const WRITES: [&str; 8] = ["set", "add", "replace", "cas", "append", "prepend", "incr", "decr"];
    if READS.iter().any(|r| s.eq_ignore_ascii_case(r)) {
        Some(Op::Get)
    } else if WRITES.iter().any(|w| s.eq_ignore_ascii_case(w)) {
        Some(Op::Set)
    } else if s.eq_ignore_ascii_case("delete") {
        Some(Op::Delete)
    } else {
        None
    }
}

/// Plain text: the trimmed line is the key; request `index` arrives at
/// `index` × [`UNTIMED_SPACING_NS`].
pub(super) fn parse_text(line: &str, index: u64) -> Request {
    Request { time_ns: untimed(index), key: key_of(line), op: Op::Get, size: 1, ttl: None }
}

/// The time of request `index` of a trace without timestamps.
#[inline]
pub(super) fn untimed(index: u64) -> u64 {
    index.saturating_mul(UNTIMED_SPACING_NS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_defaults_and_extra_columns() {
        let r = parse_csv("10,42,SET,100,60,extra,more").unwrap();
        assert_eq!(r, Request { time_ns: 10, key: 42, op: Op::Set, size: 100, ttl: Some(60) });
        let r = parse_csv(" 5 , user:1 ").unwrap();
        assert_eq!(r, Request { time_ns: 5, key: hash_key("user:1"), op: Op::Get, size: 1, ttl: None });
        assert_eq!(parse_csv("5,7,delete,,0").unwrap().ttl, None);
        assert_eq!(parse_csv("5,7,Delete,3").unwrap().op, Op::Delete);
    }

    #[test]
    fn csv_errors_name_the_field() {
        assert_eq!(
            parse_csv("x,1").unwrap_err(),
            "field 1 (timestamp): \"x\" is not a valid unsigned 64-bit integer (the CSV's columns are timestamp,key,op,size,ttl; one key a line is the text format)"
        );
        assert_eq!(parse_csv("1").unwrap_err(), "missing field 2 (key): the line has 1 field(s)");
        assert_eq!(parse_csv("1,,get").unwrap_err(), "field 2 (key) is empty");
        assert!(parse_csv("1,2,put").unwrap_err().starts_with("field 3 (op): unknown op \"put\""));
        assert!(parse_csv("1,2,get,-4").unwrap_err().starts_with("field 4 (size): \"-4\""));
        assert!(parse_csv("1,2,get,4,1.5").unwrap_err().starts_with("field 5 (ttl)"));
    }

    #[test]
    fn twitter_lines() {
        let r = parse_twitter("12,abcd,10,90,3,gets,0").unwrap();
        assert_eq!(
            r,
            Request { time_ns: 12 * NS_PER_SEC, key: hash_key("abcd"), op: Op::Get, size: 100, ttl: None }
        );
        let r = parse_twitter("13,abcd,10,90,3,cas,3600").unwrap();
        assert_eq!((r.op, r.ttl), (Op::Set, Some(3600)));
        assert_eq!(parse_twitter("13,k,1,1,3,delete,0").unwrap().op, Op::Delete);
        assert!(parse_twitter("13,k,1,1,3,flush,0").unwrap_err().starts_with("field 6 (operation): unknown"));
        assert!(parse_twitter("13,k,1,x,3,get,0").unwrap_err().starts_with("field 4 (value_size)"));
        assert!(parse_twitter("13,k,1,1,3").unwrap_err().starts_with("missing field 6 (operation)"));
    }

    #[test]
    fn twitter_timestamps_past_u64_nanoseconds_are_errors() {
        let max = u64::MAX / NS_PER_SEC;
        assert_eq!(parse_twitter(&format!("{max},k,1,1,3,get,0")).unwrap().time_ns, max * NS_PER_SEC);
        assert_eq!(
            parse_twitter(&format!("{},k,1,1,3,get,0", max + 1)).unwrap_err(),
            format!(
                "field 1 (timestamp): {} seconds is past what u64 nanoseconds hold (at most {max} s)",
                max + 1
            )
        );
    }

    #[test]
    fn decimal_spellings_of_a_number_are_one_key() {
        assert_eq!([key_of("7"), key_of("007"), key_of("+7")], [7, 7, 7]);
        assert_eq!(key_of("7.0"), hash_key("7.0"));
    }

    #[test]
    fn headers() {
        assert!(is_header("timestamp,key,op,size,ttl"));
        assert!(is_header("Time,key"));
        assert!(!is_header("0,key"));
    }
}
