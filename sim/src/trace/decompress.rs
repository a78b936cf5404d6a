//! Streaming decompression: a [`Decoder`] reads a plain, zstd or xz stream
//! and yields the decompressed bytes, holding only the codec's window in
//! memory (never the whole trace).

use std::io::{self, BufRead, BufReader, Read};

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use super::Compression;

/// A decompressing reader over `R`.
pub struct Decoder<R: Read> {
    inner: Inner<R>,
}

enum Inner<R: Read> {
    Plain(R),
    Zstd(Box<ZstdReader<BufReader<R>>>),
    Xz(Box<lzma_rust2::XzReader<BufReader<R>>>),
}

impl<R: Read> Decoder<R> {
    /// Decodes `reader` compressed with `compression`. Nothing is read yet;
    /// a corrupt stream shows up as an error of the first failing `read`.
    #[must_use]
    pub fn new(reader: R, compression: Compression) -> Self {
        let inner = match compression {
            Compression::None => Inner::Plain(reader),
            Compression::Zstd => Inner::Zstd(Box::new(ZstdReader::new(BufReader::new(reader)))),
            Compression::Xz => Inner::Xz(Box::new(lzma_rust2::XzReader::new(BufReader::new(reader), true))),
        };
        Self { inner }
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.inner {
            Inner::Plain(r) => r.read(buf),
            Inner::Zstd(r) => r.read(buf),
            Inner::Xz(r) => r.read(buf),
        }
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
                            "zstd: truncated skippable frame",
                        ));
                    }
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}"))),
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
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}")))?;
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

    #[test]
    fn zstd_corrupt_and_truncated_are_errors() {
        let z = compress_to_vec(&sample(200_000)[..], CompressionLevel::Fastest);
        let e = decode_all(&z[..z.len() / 2], Compression::Zstd).unwrap_err();
        assert!(e.to_string().contains("zstd"), "{e}");
        let e = decode_all(b"not zstd at all", Compression::Zstd).unwrap_err();
        assert!(e.to_string().contains("zstd"), "{e}");
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
        assert!(decode_all(&xz[..xz.len() - 20], Compression::Xz).is_err());
    }
}
