//! A connection with one deadline for the whole exchange: every read and
//! write waits at most until it, however the client spaces its bytes. A
//! per-call socket timeout alone lets a client that sends (or reads) one
//! byte just inside each timeout hold a connection, and with it one of the
//! server's few places, for hours.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// `stream`, readable and writable until `until`; after it every call fails
/// with [`io::ErrorKind::TimedOut`].
pub(super) struct Deadline {
    stream: TcpStream,
    until: Instant,
}

impl Deadline {
    /// `stream` for `limit` from now.
    #[allow(clippy::disallowed_methods)] // a network deadline: real time
    pub(super) fn new(stream: TcpStream, limit: Duration) -> Self {
        let now = Instant::now();
        Self { stream, until: now.checked_add(limit).unwrap_or(now + Duration::from_secs(86_400)) }
    }

    /// Time left, or `TimedOut` once none is.
    #[allow(clippy::disallowed_methods)] // a network deadline: real time
    fn left(&self) -> io::Result<Duration> {
        match self.until.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(left),
            _ => Err(io::Error::new(io::ErrorKind::TimedOut, "connection deadline passed")),
        }
    }

    /// A second handle on the same connection, with the same deadline.
    pub(super) fn try_clone(&self) -> io::Result<Self> {
        Ok(Self { stream: self.stream.try_clone()?, until: self.until })
    }
}

impl Read for Deadline {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf).map_err(timed_out)
    }
}

impl Write for Deadline {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let left = self.left()?;
        self.stream.set_write_timeout(Some(left))?;
        self.stream.write(buf).map_err(timed_out)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// A socket timeout reads as `WouldBlock` on Unix and `TimedOut` on
/// Windows: both are the deadline's.
fn timed_out(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        io::Error::new(io::ErrorKind::TimedOut, "connection deadline passed")
    } else {
        e
    }
}
