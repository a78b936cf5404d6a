//! Streaming decompression: a [`Decoder`] reads a plain, zstd or xz stream
//! and yields the decompressed bytes, holding only the codec's window in
//! memory (never the whole trace).

use std::io::{self, BufRead, BufReader, Read};

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use super::Compression;

/// A decompressing reader over `R`. A stream that cannot be decoded fails
/// a `read` with an [`io::Error`] carrying a [`DecodeError`].
pub struct Decoder<R: Read> {
    inner: Inner<R>,
}

enum Inner<R: Read> {
    Plain(R),
    Zstd(Box<ZstdReader<Input<BufReader<R>>>>),
    Xz(Box<lzma_rust2::XzReader<Input<BufReader<R>>>>),
}

impl<R: Read> Decoder<R> {
    /// Decodes `reader` compressed with `compression`. Nothing is read yet;
    /// a corrupt stream shows up as an error of the first failing `read`.
    #[must_use]
    pub fn new(reader: R, compression: Compression) -> Self {
        let input = |r| Input::new(BufReader::new(r));
        let inner = match compression {
            Compression::None => Inner::Plain(reader),
            Compression::Zstd => Inner::Zstd(Box::new(ZstdReader::new(input(reader)))),
            Compression::Xz => Inner::Xz(Box::new(lzma_rust2::XzReader::new(input(reader), true))),
        };
        Self { inner }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Plain(r) => r.read(buf),
            Inner::Zstd(r) => r.read(buf).map_err(|e| DecodeError::of("zstd", &r.source, e)),
            Inner::Xz(r) => r.read(buf).map_err(|e| DecodeError::of("xz", r.inner(), e)),
        }
    }
}

/// A compressed stream that cannot be decoded: it ends early (a truncated
/// file), or it is not valid for its codec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// `zstd` or `xz`.
    pub codec: &'static str,
    /// Compressed bytes the decoder had taken when it failed.
    pub input_bytes: u64,
    /// Whether the input ended before the stream did.
    pub truncated: bool,
    /// The decoder's own words (corrupt streams).
    pub detail: String,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (codec, n) = (self.codec, self.input_bytes);
        if self.truncated {
            write!(f, "the {codec} stream ends early (truncated file?) after {n} bytes of input")
        } else {
            write!(f, "the {codec} stream is corrupt at byte {n} of the input: {}", self.detail)
        }
    }
}

impl std::error::Error for DecodeError {}

impl DecodeError {
    /// The error `e` of a `codec` decoder over `input`: a failure of the
    /// input itself is passed on as is; any other is the stream's fault,
    /// truncation when the input had ended.
    fn of<B>(codec: &'static str, input: &Input<B>, e: io::Error) -> io::Error {
        if input.failed || e.get_ref().is_some_and(|inner| inner.is::<DecodeError>()) {
            return e;
        }
        let truncated = input.ended;
        let kind = if truncated { io::ErrorKind::UnexpectedEof } else { io::ErrorKind::InvalidData };
        io::Error::new(
            kind,
            DecodeError { codec, input_bytes: input.taken, truncated, detail: e.to_string() },
        )
    }
}

/// The compressed input: counts the bytes the decoder takes, and notes
/// when it ends or fails.
struct Input<B> {
    inner: B,
    taken: u64,
    ended: bool,
    failed: bool,
}

impl<B> Input<B> {
    fn new(inner: B) -> Self {
        Self { inner, taken: 0, ended: false, failed: false }
    }
}

impl<B: BufRead> Read for Input<B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf).inspect_err(|_| self.failed = true)?;
        self.ended |= n == 0 && !buf.is_empty();
        self.taken += n as u64;
        Ok(n)
    }
}

impl<B: BufRead> BufRead for Input<B> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self.inner.fill_buf() {
            Ok(buf) => {
                self.ended |= buf.is_empty();
                Ok(buf)
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    fn consume(&mut self, n: usize) {
        self.taken += n as u64;
        self.inner.consume(n);
    }
}

/// Zstandard frames one after another (as `zstd` and `cat a.zst b.zst`
/// produce them), skippable frames skipped.
struct ZstdReader<R: BufRead> {
    source: R,
    decoder: FrameDecoder,
    in_frame: bool,
}

/// Magic numbers 0x184D2A50..=0x184D2A5F mark skippable frames.
const SKIPPABLE_MAGIC_MASK: u32 = 0xFFFF_FFF0;
const SKIPPABLE_MAGIC: u32 = 0x184D_2A50;

impl<R: BufRead> ZstdReader<R> {
    fn new(source: R) -> Self {
        Self { source, decoder: FrameDecoder::new(), in_frame: false }
    }

    /// Starts the next frame; `Ok(false)` at a clean end of input.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.source.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.decoder.init(&mut self.source) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    magic_number,
                    length,
                })) if magic_number & SKIPPABLE_MAGIC_MASK == SKIPPABLE_MAGIC => {
                    let skipped = io::copy(&mut (&mut self.source).take(u64::from(length)), &mut io::sink())?;
                    if skipped < u64::from(length) {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "truncated skippable frame",
                        ));
                    }
                }
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::BadMagicNumber(_))) => {
                    let what = "not a zstd frame (no zstd magic number)";
                    return Err(io::Error::new(io::ErrorKind::InvalidData, what));
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
        }
    }
}

impl<R: BufRead> Read for ZstdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.in_frame {
                while self.decoder.can_collect() == 0 && !self.decoder.is_finished() {
                    self.decoder
                        .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBlocks(1))
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
                }
                let n = self.decoder.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                self.in_frame = false;
            }
            if !self.next_frame()? {
                return Ok(0);
            }
            self.in_frame = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruzstd::encoding::{CompressionLevel, compress_to_vec};

    fn decode_all(bytes: &[u8], c: Compression) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        Decoder::new(bytes, c).read_to_end(&mut out)?;
        Ok(out)
    }

    fn sample(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn zstd_round_trip_multi_frame_and_skippable() {
        let a = sample(300_000);
        let b = b"second frame".to_vec();
        let mut z = compress_to_vec(&a[..], CompressionLevel::Fastest);
        // a skippable frame between the two data frames
        z.extend_from_slice(&0x184D_2A53u32.to_le_bytes());
        z.extend_from_slice(&3u32.to_le_bytes());
        z.extend_from_slice(b"xyz");
        z.extend_from_slice(&compress_to_vec(&b[..], CompressionLevel::Fastest));
        let mut want = a.clone();
        want.extend_from_slice(&b);
        assert_eq!(decode_all(&z, Compression::Zstd).unwrap(), want);
        assert_eq!(decode_all(&[], Compression::Zstd).unwrap(), Vec::<u8>::new());
    }

    /// The `DecodeError` of a failed decode.
    fn decode_error(bytes: &[u8], c: Compression) -> DecodeError {
        let e = decode_all(bytes, c).unwrap_err();
        e.get_ref().and_then(|e| e.downcast_ref::<DecodeError>()).cloned().unwrap_or_else(|| panic!("{e}"))
    }

    /// Truncated and corrupt streams say so in words, with the compressed
    /// byte they failed at (before: "failed to fill whole buffer", or the
    /// decoder's `BlockContentReadError(Error { kind: UnexpectedEof, .. })`).
    #[test]
    fn zstd_corrupt_and_truncated_are_errors() {
        let z = compress_to_vec(&sample(200_000)[..], CompressionLevel::Fastest);
        let half = z.len() / 2;
        let e = decode_error(&z[..half], Compression::Zstd);
        assert_eq!((e.codec, e.truncated, e.input_bytes), ("zstd", true, half as u64));
        assert_eq!(
            e.to_string(),
            format!("the zstd stream ends early (truncated file?) after {half} bytes of input")
        );
        let e = decode_error(b"not zstd at all", Compression::Zstd);
        assert_eq!(
            e.to_string(),
            "the zstd stream is corrupt at byte 4 of the input: not a zstd frame (no zstd magic number)"
        );
    }

    /// A failure of the input itself is no decoding error: passed on as is.
    #[test]
    fn input_errors_are_passed_on() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("disk on fire"))
            }
        }
        for c in [Compression::Zstd, Compression::Xz] {
            let e = Decoder::new(Broken, c).read(&mut [0; 16]).unwrap_err();
            assert_eq!(e.to_string(), "disk on fire", "{c:?}");
        }
    }

    #[test]
    fn xz_round_trip_and_truncation() {
        let data = sample(500_000);
        let mut xz = Vec::new();
        {
            let mut w = lzma_rust2::XzWriter::new(&mut xz, lzma_rust2::XzOptions::default()).unwrap();
            io::Write::write_all(&mut w, &data).unwrap();
            w.finish().unwrap();
        }
        assert_eq!(decode_all(&xz, Compression::Xz).unwrap(), data);
        let cut = xz.len() - 20;
        let e = decode_error(&xz[..cut], Compression::Xz);
        assert_eq!(
            e.to_string(),
            format!("the xz stream ends early (truncated file?) after {cut} bytes of input")
        );
        let mut bad = xz.clone();
        bad[40] ^= 0xff;
        let e = decode_error(&bad, Compression::Xz);
        assert!(!e.truncated && e.to_string().starts_with("the xz stream is corrupt at byte "), "{e}");
    }
}
