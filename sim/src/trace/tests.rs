use std::io::Write;

use proptest::prelude::*;

use super::*;

fn read_all(bytes: &[u8], format: TraceFormat, c: Compression) -> Result<Vec<Request>, TraceError> {
    TraceReader::new(bytes, format, c, "t", ReaderOptions::default()).collect()
}

fn write_all(reqs: &[Request], format: TraceFormat, c: Compression) -> Vec<u8> {
    let mut w = TraceWriter::new(Vec::new(), format, c).unwrap();
    for r in reqs {
        w.write(r).unwrap();
    }
    w.finish().unwrap()
}

fn req(time_ns: u64, key: u64, op: Op, size: u32, ttl: Option<u32>) -> Request {
    Request { time_ns, key, op, size, ttl }
}

#[test]
fn csv_with_header_comments_blank_lines_and_crlf() {
    let text = "timestamp,key,op,size,ttl\r\n# a comment\n\n0,1,get,10,\r\n5,k,SET,20,60,x\n";
    let got = read_all(text.as_bytes(), TraceFormat::Csv, Compression::None).unwrap();
    assert_eq!(got, vec![req(0, 1, Op::Get, 10, None), req(5, key_of("k"), Op::Set, 20, Some(60))]);
}

/// Hands out one byte a read: every line end straddles a buffer refill.
struct ByteByByte<'a>(&'a [u8]);

impl std::io::Read for ByteByByte<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some((&b, rest)) = self.0.split_first() else { return Ok(0) };
        if buf.is_empty() {
            return Ok(0);
        }
        buf[0] = b;
        self.0 = rest;
        Ok(1)
    }
}

/// A lone `\r` ends a line (classic Mac OS files), as `\n` and `\r\n` do.
/// Before, `0,a,get,1,\r0,a,get,1,\r0,b,get,1,\r` was one request: the
/// columns after the fifth were ignored.
#[test]
fn a_lone_cr_ends_a_line() {
    let text = "0,a,get,1,\r0,a,get,1,\r0,b,get,1,\r";
    let got = read_all(text.as_bytes(), TraceFormat::Csv, Compression::None).unwrap();
    let a = req(0, key_of("a"), Op::Get, 1, None);
    assert_eq!(got, vec![a, a, req(0, key_of("b"), Op::Get, 1, None)]);
    let got = read_all(b"a\rb\ra", TraceFormat::Text, Compression::None).unwrap();
    assert_eq!(got.iter().map(|r| r.key).collect::<Vec<_>>(), [key_of("a"), key_of("b"), key_of("a")]);

    // Mixed ends, a blank line of each kind, and a CRLF split across reads:
    // line numbers and offsets count a `\r\n` once.
    let text = b"timestamp,key\r\n1,x\r2,y\n\r\n\r\n3,z\r\r4,k,gte\n";
    for bytes in [read_all(text, TraceFormat::Csv, Compression::None), {
        TraceReader::new(ByteByByte(text), TraceFormat::Csv, Compression::None, "t", ReaderOptions::default())
            .collect()
    }] {
        let e = bytes.unwrap_err();
        assert!(e.to_string().starts_with("t:8: field 3 (op): unknown op \"gte\""), "{e}");
    }
    let opts = ReaderOptions { skip_bad: false };
    let mut r = TraceReader::new(ByteByByte(text), TraceFormat::Csv, Compression::None, "t", opts);
    let keys: Vec<u64> = r.by_ref().take(3).map(|q| q.unwrap().key).collect();
    assert_eq!(keys, [key_of("x"), key_of("y"), key_of("z")]);
    assert_eq!(r.offset(), 31, "through the \\r after 3,z");
}

#[test]
fn csv_bad_line_names_file_line_and_field() {
    let text = "timestamp,key,op\n1,2,get\n3,4,gte\n5,6,get\n";
    let mut r = TraceReader::new(
        text.as_bytes(),
        TraceFormat::Csv,
        Compression::None,
        "x.csv",
        ReaderOptions::default(),
    );
    assert_eq!(r.next().unwrap().unwrap().key, 2);
    let e = r.next().unwrap().unwrap_err();
    assert_eq!(e.to_string(), "x.csv:3: field 3 (op): unknown op \"gte\" (expected get, set or delete)");
    assert_eq!(e.position(), Some(Position::Line(3)));
    assert!(r.next().is_none(), "the reader stops after an error");
}

#[test]
fn skip_bad_counts_and_keeps_the_first_error() {
    let text = "1,2\nx,3\n4,5\n6\n\n7,8,get,1\n\u{ff}\n";
    let opts = ReaderOptions { skip_bad: true };
    let mut r = TraceReader::new(text.as_bytes(), TraceFormat::Csv, Compression::None, "s.csv", opts);
    let keys: Vec<u64> = r.by_ref().map(|q| q.unwrap().key).collect();
    assert_eq!(keys, vec![2, 5, 8]);
    assert_eq!(r.skipped(), 3);
    assert_eq!(
        r.first_skipped().unwrap().to_string(),
        "s.csv:2: field 1 (timestamp): \"x\" is not a valid unsigned 64-bit integer (the CSV's columns are timestamp,key,op,size,ttl; one key a line is the text format)"
    );
    // invalid UTF-8 is a bad line too
    let bytes = b"1,2\n\xff\xfe,3\n";
    let e = read_all(bytes, TraceFormat::Csv, Compression::None).unwrap_err();
    assert_eq!(e.to_string(), "t:2: not valid UTF-8");
}

/// An endless line of `a`s that fails the test once more than `limit`
/// bytes are read from it.
struct EndlessLine {
    read: usize,
    limit: usize,
}

impl std::io::Read for EndlessLine {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.read += buf.len();
        assert!(self.read <= self.limit, "read {} bytes of one line", self.read);
        buf.fill(b'a');
        Ok(buf.len())
    }
}

#[test]
fn an_endless_line_stops_at_the_cap() {
    let src = EndlessLine { read: 0, limit: 4 * MAX_LINE_BYTES };
    for format in [TraceFormat::Text, TraceFormat::Csv, TraceFormat::Twitter] {
        let src = EndlessLine { read: 0, ..src };
        let mut r = TraceReader::new(src, format, Compression::None, "big", ReaderOptions::default());
        let e = r.next().unwrap().unwrap_err();
        assert_eq!(e.to_string(), format!("big:1: line longer than {MAX_LINE_BYTES} bytes"));
        assert!(r.next().is_none());
    }
}

#[test]
fn a_long_line_is_skipped_whole_and_the_longest_allowed_is_read() {
    let longest = "k".repeat(MAX_LINE_BYTES);
    let text = format!("1\n{longest}k\n{longest}kkk\n2\n{longest}\n3\n");
    let opts = ReaderOptions { skip_bad: true };
    let mut r = TraceReader::new(text.as_bytes(), TraceFormat::Text, Compression::None, "t.txt", opts);
    let keys: Vec<u64> = r.by_ref().map(|q| q.unwrap().key).collect();
    assert_eq!(keys, vec![1, 2, key_of(&longest), 3]);
    assert_eq!(r.skipped(), 2);
    assert_eq!(r.offset(), text.len() as u64);
    assert_eq!(
        r.first_skipped().unwrap().to_string(),
        format!("t.txt:2: line longer than {MAX_LINE_BYTES} bytes")
    );
}

#[test]
fn twitter_trace() {
    let text =
        "0,aKey,5,100,1,get,0\n1,aKey,5,120,1,set,600\n2,bKey,5,0,2,delete,0\n3,bKey,5,1,2,flush_all,0\n";
    let mut r = TraceReader::new(
        text.as_bytes(),
        TraceFormat::Twitter,
        Compression::None,
        "c.twitter.csv",
        ReaderOptions::default(),
    );
    let first: Vec<Request> = r.by_ref().take(3).map(Result::unwrap).collect();
    assert_eq!(first[0], req(0, key_of("aKey"), Op::Get, 105, None));
    assert_eq!(first[1], req(1_000_000_000, key_of("aKey"), Op::Set, 125, Some(600)));
    assert_eq!(first[2].op, Op::Delete);
    let e = r.next().unwrap().unwrap_err().to_string();
    assert!(e.starts_with("c.twitter.csv:4: field 6 (operation): unknown operation \"flush_all\""), "{e}");
}

/// Untimed requests are 10 µs apart (100,000 a second), not 1 ns: a
/// simulator file that leaves `arrival` unset replays them at their
/// times, which must mean that rate (it meant 1 ns apart before).
#[test]
fn text_trace_spaces_requests_at_the_default_rate() {
    let got = read_all(b"a\n 17 \n\na\n", TraceFormat::Text, Compression::None).unwrap();
    assert_eq!(UNTIMED_SPACING_NS, 10_000);
    assert_eq!(
        got,
        vec![
            req(0, key_of("a"), Op::Get, 1, None),
            req(10_000, 17, Op::Get, 1, None),
            req(20_000, key_of("a"), Op::Get, 1, None)
        ]
    );
}

#[test]
fn oracle_general_records_and_truncation() {
    let mut bytes = Vec::new();
    for (ts, id, size, next) in [(1u32, 10u64, 100u32, 2i64), (2, u64::MAX, 7, -1)] {
        bytes.extend_from_slice(&ts.to_le_bytes());
        bytes.extend_from_slice(&id.to_le_bytes());
        bytes.extend_from_slice(&size.to_le_bytes());
        bytes.extend_from_slice(&next.to_le_bytes());
    }
    let got = read_all(&bytes, TraceFormat::OracleGeneral, Compression::None).unwrap();
    assert_eq!(
        got,
        vec![req(1_000_000_000, 10, Op::Get, 100, None), req(2_000_000_000, u64::MAX, Op::Get, 7, None)]
    );

    bytes.extend_from_slice(&[1, 2, 3, 4, 5]);
    let mut r = TraceReader::new(
        &bytes[..],
        TraceFormat::OracleGeneral,
        Compression::None,
        "w.oracleGeneral",
        ReaderOptions::default(),
    );
    assert!(r.next().unwrap().is_ok() && r.next().unwrap().is_ok());
    let e = r.next().unwrap().unwrap_err();
    assert_eq!(e.to_string(), "w.oracleGeneral: truncated record at byte offset 48: 5 of 24 bytes");
    assert_eq!(e.position(), Some(Position::Byte(48)));

    let mut r = TraceReader::new(
        &bytes[..],
        TraceFormat::OracleGeneral,
        Compression::None,
        "w",
        ReaderOptions { skip_bad: true },
    );
    assert_eq!(r.by_ref().count(), 2);
    assert_eq!(r.skipped(), 1);
}

#[test]
fn cache2k_big_endian_keys() {
    let bytes: Vec<u8> = [5i32, -1, 5].iter().flat_map(|k| k.to_be_bytes()).chain([0u8, 1]).collect();
    let mut r = TraceReader::new(
        &bytes[..],
        TraceFormat::Cache2k,
        Compression::None,
        "x.trace",
        ReaderOptions::default(),
    );
    let got: Vec<Request> = r.by_ref().take(3).map(Result::unwrap).collect();
    assert_eq!(
        got,
        vec![
            req(0, 5, Op::Get, 1, None),
            req(10_000, 0xFFFF_FFFF, Op::Get, 1, None),
            req(20_000, 5, Op::Get, 1, None)
        ]
    );
    assert_eq!(
        r.next().unwrap().unwrap_err().to_string(),
        "x.trace: truncated record at byte offset 12: 2 of 4 bytes"
    );
}

#[test]
fn cache2k_xz_round_trip() {
    let keys: Vec<i32> = (0..50_000).map(|i| (i * 7919) % 1000 - 500).collect();
    let raw: Vec<u8> = keys.iter().flat_map(|k| k.to_be_bytes()).collect();
    let mut xz = Vec::new();
    let mut w = lzma_rust2::XzWriter::new(&mut xz, lzma_rust2::XzOptions::default()).unwrap();
    w.write_all(&raw).unwrap();
    w.finish().unwrap();
    let got = read_all(&xz, TraceFormat::Cache2k, Compression::Xz).unwrap();
    assert_eq!(got.len(), keys.len());
    assert!(got.iter().zip(&keys).all(|(r, &k)| r.key == u64::from(k as u32)));
    // truncated xz: named, with where the input ended and how far the trace was read
    let cut = xz.len() / 2;
    let e = read_all(&xz[..cut], TraceFormat::Cache2k, Compression::Xz).unwrap_err();
    let Some(Position::Byte(at)) = e.position() else { panic!("{e:?}") };
    assert_eq!(
        e.to_string(),
        format!(
            "t: the xz stream ends early (truncated file?) after {cut} bytes of input (read up to byte {at} of the decompressed trace)"
        )
    );
}

#[test]
fn zstd_round_trip_spans_several_frames() {
    let reqs: Vec<Request> = (0..400_000u64)
        .map(|i| req(i * 1000, i % 5000, if i % 10 == 0 { Op::Set } else { Op::Get }, 100, None))
        .collect();
    for format in [TraceFormat::Csv, TraceFormat::OracleGeneral] {
        let z = write_all(&reqs, format, Compression::Zstd);
        let plain = write_all(&reqs, format, Compression::None);
        assert!(plain.len() > FRAME_BYTES, "the test must cover several frames");
        assert!(z.len() < plain.len() / 2);
        let got = read_all(&z, format, Compression::Zstd).unwrap();
        assert_eq!(got.len(), reqs.len());
        if format == TraceFormat::Csv {
            assert_eq!(got, reqs);
        } else {
            // oracleGeneral keeps whole seconds and no op
            assert!(
                got.iter()
                    .zip(&reqs)
                    .all(|(g, r)| g.key == r.key && g.time_ns == r.time_ns / 1_000_000_000 * 1_000_000_000)
            );
        }
    }
}

#[test]
fn open_detects_format_and_names_the_file_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.csv.zst");
    let reqs = [req(0, 1, Op::Get, 1, None), req(1, 2, Op::Set, 3, Some(4))];
    std::fs::write(&path, write_all(&reqs, TraceFormat::Csv, Compression::Zstd)).unwrap();
    let got: Vec<Request> =
        open(&path, None, ReaderOptions::default()).unwrap().map(Result::unwrap).collect();
    assert_eq!(got, reqs);

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "1,2\n3,4,get,big\n").unwrap();
    let e = open(&bad, None, ReaderOptions::default()).unwrap().find_map(Result::err).unwrap().to_string();
    assert_eq!(
        e,
        format!("{}:2: field 4 (size): \"big\" is not a valid unsigned 32-bit integer", bad.display())
    );

    let missing = dir.path().join("none.csv");
    let e = open(&missing, None, ReaderOptions::default()).err().unwrap().to_string();
    assert!(e.starts_with(&format!("{}: cannot open", missing.display())), "{e}");
}

#[test]
fn writer_rejects_unwritable_formats() {
    assert!(TraceWriter::new(Vec::new(), TraceFormat::Twitter, Compression::None).is_err());
    assert!(TraceWriter::new(Vec::new(), TraceFormat::Csv, Compression::Xz).is_err());
}

fn arb_request() -> impl Strategy<Value = Request> {
    (
        any::<u64>(),
        any::<u64>(),
        prop_oneof![Just(Op::Get), Just(Op::Set), Just(Op::Delete)],
        any::<u32>(),
        proptest::option::of(1..=u32::MAX),
    )
        .prop_map(|(time_ns, key, op, size, ttl)| Request { time_ns, key, op, size, ttl })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn csv_round_trip(reqs in proptest::collection::vec(arb_request(), 0..300), zstd in any::<bool>()) {
        let c = if zstd { Compression::Zstd } else { Compression::None };
        let bytes = write_all(&reqs, TraceFormat::Csv, c);
        let got = read_all(&bytes, TraceFormat::Csv, c).unwrap();
        prop_assert_eq!(got, reqs);
    }
}

#[test]
fn real_cache2k_traces_read_completely() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../traces");
    for (name, want) in [("web07.trace.xz", 76_118), ("web12.trace.xz", 95_607)] {
        let mut r = open(&dir.join(name), None, ReaderOptions::default()).unwrap();
        assert_eq!(r.format(), TraceFormat::Cache2k);
        assert_eq!(
            r.by_ref().map(|q| q.map(|_| ())).collect::<Result<Vec<()>, _>>().unwrap().len(),
            want,
            "{name}"
        );
        assert_eq!(r.offset(), want as u64 * 4);
    }
}
