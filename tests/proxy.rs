//! The fault-injecting proxy of the tests (tests/support/proxy.rs) against a
//! local echo server: it forwards, and cut, blackhole, delay and heal do
//! what the fault tests rely on.

#[path = "support/proxy.rs"]
mod proxy;

use std::net::SocketAddr;
use std::time::Duration;

use proxy::Proxy;
use strata::core::{Clock, SystemClock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An echo server on loopback; runs until the test's runtime ends.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf).await {
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    addr
}

/// Sends `msg` and reads the echo, or fails after `within`.
async fn round_trip(s: &mut TcpStream, msg: &[u8], within: Duration) -> std::io::Result<Vec<u8>> {
    let work = async {
        s.write_all(msg).await?;
        let mut got = vec![0u8; msg.len()];
        s.read_exact(&mut got).await?;
        Ok(got)
    };
    tokio::time::timeout(within, work).await.map_err(|_| std::io::ErrorKind::TimedOut)?
}

const SHORT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(5);

#[tokio::test]
async fn forwards_both_ways_on_many_connections() {
    let proxy = Proxy::start(echo_server().await).await.unwrap();
    let mut conns = Vec::new();
    for i in 0..5u8 {
        let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
        assert_eq!(round_trip(&mut s, &[i; 3], LONG).await.unwrap(), vec![i; 3]);
        conns.push(s);
    }
    // A message larger than one forwarding chunk arrives whole and in order.
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    assert_eq!(round_trip(&mut conns[0], &big, LONG).await.unwrap(), big);
}

#[tokio::test]
async fn cut_breaks_live_connections_and_refuses_new_ones_until_heal() {
    let proxy = Proxy::start(echo_server().await).await.unwrap();
    let mut live = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut live, b"before", LONG).await.unwrap();

    proxy.cut();
    let e = round_trip(&mut live, b"during", LONG).await.unwrap_err();
    assert_ne!(e.kind(), std::io::ErrorKind::TimedOut, "a cut connection must fail, not hang: {e}");
    // A new connection is accepted by the kernel and closed at once.
    let mut fresh = TcpStream::connect(proxy.addr()).await.unwrap();
    let e = round_trip(&mut fresh, b"during", LONG).await.unwrap_err();
    assert_ne!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");

    proxy.heal();
    let mut after = TcpStream::connect(proxy.addr()).await.unwrap();
    assert_eq!(round_trip(&mut after, b"after", LONG).await.unwrap(), b"after");
}

#[tokio::test]
async fn blackhole_holds_every_byte_until_heal() {
    let proxy = Proxy::start(echo_server().await).await.unwrap();
    let mut live = TcpStream::connect(proxy.addr()).await.unwrap();
    round_trip(&mut live, b"x", LONG).await.unwrap();

    proxy.blackhole();
    let e = round_trip(&mut live, b"held", SHORT).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");
    // New connections are accepted but get no answer either.
    let mut fresh = TcpStream::connect(proxy.addr()).await.unwrap();
    let e = round_trip(&mut fresh, b"new", SHORT).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::TimedOut, "{e}");

    proxy.heal();
    // The echo of "held" was written before the timeout; it arrives now.
    let mut got = [0u8; 4];
    tokio::time::timeout(LONG, live.read_exact(&mut got)).await.unwrap().unwrap();
    assert_eq!(&got, b"held");
    assert_eq!(round_trip(&mut live, b"again", LONG).await.unwrap(), b"again");
}

#[tokio::test]
async fn delay_slows_each_direction() {
    let proxy = Proxy::start(echo_server().await).await.unwrap();
    let mut s = TcpStream::connect(proxy.addr()).await.unwrap();
    let clock = SystemClock::new();
    proxy.set_delay(Duration::from_millis(100));
    let start = clock.now();
    round_trip(&mut s, b"slow", LONG).await.unwrap();
    let took = clock.now().saturating_duration_since(start);
    assert!(took >= Duration::from_millis(200), "a round trip crosses the delay twice: {took:?}");

    proxy.heal();
    let start = clock.now();
    round_trip(&mut s, b"fast", LONG).await.unwrap();
    let took = clock.now().saturating_duration_since(start);
    assert!(took < Duration::from_millis(100), "heal removes the delay: {took:?}");
}
