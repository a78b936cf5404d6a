//! A fault-injecting TCP forwarder for tests: sits between a client and a
//! server on loopback and can cut, blackhole or delay the traffic.
//!
//! - [`Proxy::cut`]: closes every open connection and refuses new ones
//!   (accepts and closes them at once) until [`Proxy::heal`]: the server
//!   looks down or restarting.
//! - [`Proxy::blackhole`]: connections stay open (new ones are accepted and
//!   connected upstream) but no byte moves in either direction until
//!   [`Proxy::heal`]; the bytes held meanwhile are then delivered in order,
//!   as TCP does after a partition heals.
//! - [`Proxy::set_delay`]: every chunk read is forwarded `delay` later
//!   (each direction; a round trip gains at least twice the delay).
//! - [`Proxy::heal`]: back to plain forwarding, no delay.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Pass,
    Blackhole,
    Cut,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Control {
    mode: Mode,
    delay: Duration,
    /// Bumped by every `cut`; connections from an older generation close.
    generation: u64,
}

/// The proxy. Dropping it stops accepting and closes every connection.
pub struct Proxy {
    addr: SocketAddr,
    control: Arc<watch::Sender<Control>>,
    accept: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        // Wakes the connection tasks; they see the closed channel and stop.
        self.control.send_modify(|c| {
            c.mode = Mode::Cut;
            c.generation += 1;
        });
    }
}

impl Proxy {
    /// A proxy on an ephemeral loopback port forwarding to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let control =
            Arc::new(watch::channel(Control { mode: Mode::Pass, delay: Duration::ZERO, generation: 0 }).0);
        let accept = tokio::spawn(accept_loop(listener, upstream, Arc::clone(&control)));
        Ok(Self { addr, control, accept })
    }

    /// The proxy's listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes every connection and refuses new ones until [`Proxy::heal`].
    pub fn cut(&self) {
        self.control.send_modify(|c| {
            c.mode = Mode::Cut;
            c.generation += 1;
        });
    }

    /// Holds every byte (both directions, all connections) until [`Proxy::heal`].
    pub fn blackhole(&self) {
        self.control.send_modify(|c| c.mode = Mode::Blackhole);
    }

    /// Forwards every chunk `delay` after reading it.
    pub fn set_delay(&self, delay: Duration) {
        self.control.send_modify(|c| c.delay = delay);
    }

    /// Plain forwarding again, no delay.
    pub fn heal(&self) {
        self.control.send_modify(|c| {
            c.mode = Mode::Pass;
            c.delay = Duration::ZERO;
        });
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, control: Arc<watch::Sender<Control>>) {
    loop {
        let Ok((client, _)) = listener.accept().await else { continue };
        let now = *control.borrow();
        if now.mode == Mode::Cut {
            drop(client);
            continue;
        }
        let rx = control.subscribe();
        tokio::spawn(async move {
            let Ok(server) = TcpStream::connect(upstream).await else { return };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            // Either direction ending (EOF, error, cut) closes both.
            tokio::select! {
                () = pump(cr, sw, rx.clone(), now.generation) => {}
                () = pump(sr, cw, rx, now.generation) => {}
            }
        });
    }
}

/// Copies `from` to `to` under the control settings; returns when either
/// side closes or the connection's generation is cut.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut rx: watch::Receiver<Control>,
    generation: u64,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = tokio::select! {
            r = from.read(&mut buf) => match r {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            },
            changed = rx.changed() => {
                if changed.is_err() || rx.borrow().generation != generation {
                    return;
                }
                continue;
            }
        };
        // Hold the chunk while blackholed; give up if cut meanwhile.
        loop {
            let c = *rx.borrow_and_update();
            if c.generation != generation {
                return;
            }
            if c.mode == Mode::Pass {
                if !c.delay.is_zero() {
                    tokio::time::sleep(c.delay).await;
                }
                break;
            }
            if rx.changed().await.is_err() {
                return;
            }
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
