//! [`RedisTier`]: the L2 tier on Redis (feature `redis`).
//!
//! - Keys are stored as `namespace ":" key` (raw bytes, binary-safe).
//! - Values expire with `PX` (a TTL of `None` or zero: no expiry; a TTL
//!   below one millisecond is rounded up to one).
//! - Commands go through one [`ConnectionManager`] (a multiplexed connection
//!   that reconnects by itself). Every round trip is bounded by
//!   `L2Config::timeout` and passes the [`CircuitBreaker`] first: while it is
//!   open, calls fail at once without touching the network. A command that
//!   finds its connection dropped (the server restarted while it sat idle)
//!   is sent once more on the reconnected connection, within the same
//!   deadline; every command used here is idempotent.
//! - Invalidation notices travel on the channel `namespace ":invalidate"`
//!   (format in `notice.rs`). Each subscription has its own pub/sub
//!   connection and task; the task pings the server every
//!   [`PUBSUB_PING_INTERVAL`], and when the connection is lost it reconnects
//!   with backoff, resubscribes and delivers [`Invalidation::All`].
//! - Errors of connecting and subscribing name the server (`host:port` or
//!   the socket path, never the URL's credentials) before the cause:
//!   `L2 (redis) connect failed: 127.0.0.1:6380: Connection refused (os
//!   error 111)`.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use parking_lot::Mutex;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubSink, PubSubStream};
use redis::{
    AsyncConnectionConfig, Client, Cmd, ConnectionAddr, FromRedisValue, Pipeline, RedisResult, Value,
};
use tokio::sync::{mpsc, watch};

use super::notice;
use super::{BreakerState, Invalidation, L2Tier};
use crate::clock::Clock;
use crate::config::{L2Config, MAX_L2_TTL};
use crate::error::{AtServer, Result, StateError, Tier};
use crate::policy::breaker::CircuitBreaker;

const BACKEND: &str = "redis";

/// Least time allowed for establishing a connection (TCP, TLS, AUTH) and for
/// the pub/sub health ping; the per-call `timeout` applies when it is longer.
pub const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How often a subscription pings its connection to detect a dead link.
pub const PUBSUB_PING_INTERVAL: Duration = Duration::from_secs(1);
/// First wait before resubscribing after a lost subscription (doubles up to
/// [`RESUBSCRIBE_MAX_BACKOFF`]).
pub const RESUBSCRIBE_MIN_BACKOFF: Duration = Duration::from_millis(50);
/// Longest wait between resubscription attempts.
pub const RESUBSCRIBE_MAX_BACKOFF: Duration = Duration::from_secs(2);
/// `COUNT` hint of each `SCAN` round of [`L2Tier::clear`].
pub const SCAN_BATCH: usize = 1000;
/// Connection attempts of one background reconnection of the command
/// connection (a later call starts a new one if it failed).
const RECONNECT_ATTEMPTS: usize = 3;

/// The Redis L2 tier. See the module docs.
pub struct RedisTier {
    client: Client,
    /// The server's address, for errors ([`server_name`]).
    server: Arc<str>,
    conn: ConnectionManager,
    namespace: String,
    /// `namespace ":"`.
    prefix: Vec<u8>,
    /// `namespace ":invalidate"`.
    channel: Vec<u8>,
    timeout: Duration,
    connect_timeout: Duration,
    instance_id: u64,
    breaker: Mutex<CircuitBreaker>,
    clock: Arc<dyn Clock>,
    errors: AtomicU64,
    /// Dropped with the tier; the subscriber tasks watch it and stop.
    shutdown: watch::Sender<()>,
}

impl fmt::Debug for RedisTier {
    // The client holds the URL's password: not printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTier")
            .field("server", &self.server)
            .field("namespace", &self.namespace)
            .field("instance_id", &format_args!("{:016x}", self.instance_id))
            .field("timeout", &self.timeout)
            .field("breaker", &self.breaker_state())
            .field("errors", &self.error_count())
            .finish_non_exhaustive()
    }
}

impl RedisTier {
    /// Validates `config`, connects to Redis (one attempt bounded by
    /// `max(timeout, MIN_CONNECT_TIMEOUT)`, AUTH included) and returns the
    /// tier. `clock` drives the circuit breaker. Must be called inside a
    /// tokio runtime.
    ///
    /// # Errors
    /// [`StateError::Config`] for an invalid config or URL;
    /// [`StateError::Backend`] (op `"connect"`) when the server refuses the
    /// connection or the credentials, or its name does not resolve (the
    /// message names the server's address); [`StateError::Timeout`] when it
    /// does not answer.
    pub async fn connect(config: &L2Config, clock: Arc<dyn Clock>) -> Result<Self> {
        config.validate()?;
        if config.url.starts_with("rediss://") {
            // rustls needs a process-wide crypto provider; another part of the
            // program may have installed one already, which is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        // The parse error never echoes the URL, which may hold a password.
        let client = Client::open(config.url.as_str())
            .map_err(|e| StateError::config("l2.url", format!("not a valid Redis URL: {e}")))?;
        let connect_timeout = config.timeout.max(MIN_CONNECT_TIMEOUT);
        let server: Arc<str> = server_name(client.get_connection_info().addr()).into();

        // One direct attempt first, so a refused connection or bad password
        // is reported as such (the manager would retry it until the deadline).
        let probe_config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(connect_timeout));
        with_deadline("connect", &server, connect_timeout, async {
            let mut conn = client.get_multiplexed_async_connection_with_config(&probe_config).await?;
            redis::cmd("PING").query_async::<()>(&mut conn).await
        })
        .await?;

        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(None)
            .set_number_of_retries(RECONNECT_ATTEMPTS)
            .set_min_delay(RESUBSCRIBE_MIN_BACKOFF)
            .set_max_delay(RESUBSCRIBE_MAX_BACKOFF);
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), manager_config)
            .map_err(|e| StateError::backend(Tier::L2, BACKEND, "connect", AtServer::new(&server, e)))?;

        let namespace = config.namespace.clone();
        let mut prefix = namespace.clone().into_bytes();
        prefix.push(b':');
        let mut channel = prefix.clone();
        channel.extend_from_slice(b"invalidate");
        let (shutdown, _) = watch::channel(());
        Ok(Self {
            client,
            server,
            conn,
            namespace,
            prefix,
            channel,
            timeout: config.timeout,
            connect_timeout,
            instance_id: rand::random(),
            breaker: Mutex::new(CircuitBreaker::new(config.breaker_failures, config.breaker_cooldown)),
            clock,
            errors: AtomicU64::new(0),
            shutdown,
        })
    }

    /// The namespace.
    #[must_use]
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The Redis key of `key`: `namespace ":" key`.
    #[must_use]
    pub fn redis_key(&self, key: &[u8]) -> Vec<u8> {
        let mut k = Vec::with_capacity(self.prefix.len() + key.len());
        k.extend_from_slice(&self.prefix);
        k.extend_from_slice(key);
        k
    }

    /// Runs one command through the breaker and the timeout.
    async fn query<T: FromRedisValue>(&self, op: &'static str, cmd: &Cmd) -> Result<T> {
        self.call(op, || {
            let mut conn = self.conn.clone();
            async move { cmd.query_async(&mut conn).await }
        })
        .await
    }

    /// Runs one pipeline (one round trip) through the breaker and the timeout.
    async fn query_pipe(&self, op: &'static str, pipe: &Pipeline) -> Result<()> {
        self.call(op, || {
            let mut conn = self.conn.clone();
            async move { pipe.query_async::<()>(&mut conn).await }
        })
        .await
    }

    /// Runs `attempt` through the breaker, bounded by the timeout. An attempt
    /// that finds the connection dropped (the server restarted while the
    /// connection sat idle) is made once more on the reconnected manager,
    /// within the same deadline: every L2 command is idempotent.
    async fn call<T, F, Fut>(&self, op: &'static str, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = RedisResult<T>> + Send,
    {
        let permit = self
            .breaker
            .lock()
            .try_acquire(self.clock.now())
            .map_err(|rejected| StateError::backend(Tier::L2, BACKEND, op, rejected))?;
        let attempts = async {
            match attempt().await {
                Err(e) if e.is_connection_dropped() => {
                    tracing::debug!(namespace = %self.namespace, error = %e, op, "L2 connection dropped; retrying once");
                    attempt().await
                }
                done => done,
            }
        };
        let outcome = tokio::time::timeout(self.timeout, attempts).await;
        let now = self.clock.now();
        let err = match outcome {
            Ok(Ok(v)) => {
                self.breaker.lock().on_success(permit, now);
                return Ok(v);
            }
            Ok(Err(e)) => StateError::backend(Tier::L2, BACKEND, op, e),
            Err(_) => StateError::Timeout { tier: Tier::L2, backend: BACKEND, op, after: self.timeout },
        };
        self.breaker.lock().on_failure(permit, now);
        self.errors.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(namespace = %self.namespace, error = %err, "L2 call failed");
        Err(err)
    }

    fn subscriber(&self) -> Subscriber {
        Subscriber {
            client: self.client.clone(),
            server: self.server.clone(),
            channel: self.channel.clone(),
            own_id: self.instance_id,
            limit: self.connect_timeout,
        }
    }

    /// `SET key value [NX] [PX ms]`.
    fn set_cmd(&self, key: &[u8], value: &[u8], ttl: Option<Duration>, only_absent: bool) -> redis::Cmd {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.redis_key(key)).arg(value);
        if only_absent {
            cmd.arg("NX");
        }
        if let Some(ms) = px_millis(ttl) {
            cmd.arg("PX").arg(ms);
        }
        cmd
    }

    /// One pipeline of `SET`s (one round trip).
    async fn set_pipeline(
        &self,
        op: &'static str,
        entries: &[(Bytes, Bytes)],
        ttl: Option<Duration>,
        only_absent: bool,
    ) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (k, v) in entries {
            pipe.add_command(self.set_cmd(k, v, ttl, only_absent)).ignore();
        }
        self.query_pipe(op, &pipe).await
    }
}

/// `PX` milliseconds of `ttl`; `None` for no expiry (also for a TTL beyond
/// [`MAX_L2_TTL`], which Redis could refuse as an invalid expire time).
fn px_millis(ttl: Option<Duration>) -> Option<u64> {
    let ttl = ttl.filter(|t| !t.is_zero() && *t <= MAX_L2_TTL)?;
    u64::try_from(ttl.as_nanos().div_ceil(1_000_000)).ok()
}

/// `s` with the glob metacharacters of `SCAN MATCH` escaped.
fn glob_escape(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 2);
    for &b in s.as_bytes() {
        if matches!(b, b'*' | b'?' | b'[' | b']' | b'\\') {
            out.push(b'\\');
        }
        out.push(b);
    }
    out
}

/// How errors name the server at `addr`: `host:port` (`[v6]:port`) or the
/// socket path. Never the URL's credentials, which `addr` does not hold.
fn server_name(addr: &ConnectionAddr) -> String {
    match addr {
        ConnectionAddr::Tcp(host, port) | ConnectionAddr::TcpTls { host, port, .. } if host.contains(':') => {
            format!("[{host}]:{port}")
        }
        other => other.to_string(),
    }
}

/// `fut` bounded by `limit`, its errors as L2 errors of `op` naming `server`
/// (no breaker).
async fn with_deadline<T>(
    op: &'static str,
    server: &Arc<str>,
    limit: Duration,
    fut: impl Future<Output = RedisResult<T>>,
) -> Result<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(StateError::backend(Tier::L2, BACKEND, op, AtServer::new(server, e))),
        Err(_) => Err(StateError::Timeout { tier: Tier::L2, backend: BACKEND, op, after: limit }),
    }
}

#[async_trait]
impl L2Tier for RedisTier {
    fn name(&self) -> &'static str {
        BACKEND
    }

    async fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        let k = self.redis_key(key);
        self.query("get", redis::cmd("GET").arg(&k)).await
    }

    async fn get_many(&self, keys: &[Bytes]) -> Result<Vec<Option<Bytes>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut cmd = redis::cmd("MGET");
        for k in keys {
            cmd.arg(self.redis_key(k));
        }
        let values: Vec<Option<Bytes>> = self.query("get_many", &cmd).await?;
        if values.len() != keys.len() {
            return Err(StateError::backend(
                Tier::L2,
                BACKEND,
                "get_many",
                format!("MGET of {} keys answered {} values", keys.len(), values.len()),
            ));
        }
        Ok(values)
    }

    async fn put(&self, key: &[u8], value: Bytes, ttl: Option<Duration>) -> Result<()> {
        self.query("put", &self.set_cmd(key, &value, ttl, false)).await
    }

    async fn put_many(&self, entries: &[(Bytes, Bytes)], ttl: Option<Duration>) -> Result<()> {
        self.set_pipeline("put_many", entries, ttl, false).await
    }

    async fn populate(&self, key: &[u8], value: Bytes, ttl: Option<Duration>) -> Result<()> {
        self.query("populate", &self.set_cmd(key, &value, ttl, true)).await
    }

    async fn populate_many(&self, entries: &[(Bytes, Bytes)], ttl: Option<Duration>) -> Result<()> {
        self.set_pipeline("populate_many", entries, ttl, true).await
    }

    async fn delete(&self, key: &[u8]) -> Result<()> {
        let k = self.redis_key(key);
        self.query("delete", redis::cmd("UNLINK").arg(&k)).await
    }

    async fn delete_many(&self, keys: &[Bytes]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("UNLINK");
        for k in keys {
            cmd.arg(self.redis_key(k));
        }
        self.query("delete_many", &cmd).await
    }

    /// `SCAN MATCH namespace:*` in rounds of [`SCAN_BATCH`], each round's
    /// keys removed with one `UNLINK`. Keys written while it runs may
    /// survive; every key present throughout is removed.
    async fn clear(&self) -> Result<u64> {
        let mut pattern = glob_escape(&self.namespace);
        pattern.extend_from_slice(b":*");
        let mut cursor: u64 = 0;
        let mut removed = 0u64;
        loop {
            let mut scan = redis::cmd("SCAN");
            scan.arg(cursor).arg("MATCH").arg(&pattern).arg("COUNT").arg(SCAN_BATCH);
            let (next, keys): (u64, Vec<Vec<u8>>) = self.query("clear", &scan).await?;
            if !keys.is_empty() {
                let mut unlink = redis::cmd("UNLINK");
                unlink.arg(keys);
                let n: u64 = self.query("clear", &unlink).await?;
                removed += n;
            }
            if next == 0 {
                return Ok(removed);
            }
            cursor = next;
        }
    }

    async fn publish_invalidation(&self, keys: &[Bytes]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for k in keys {
            pipe.cmd("PUBLISH").arg(&self.channel).arg(notice::encode_key(self.instance_id, k)).ignore();
        }
        self.query_pipe("publish", &pipe).await
    }

    async fn publish_clear(&self) -> Result<()> {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&self.channel).arg(notice::encode_all(self.instance_id));
        self.query("publish", &cmd).await
    }

    async fn subscribe_invalidations(&self) -> Result<mpsc::UnboundedReceiver<Invalidation>> {
        let sub = self.subscriber();
        let (sink, stream) = sub.open().await?;
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(sub.run(sink, stream, tx, self.shutdown.subscribe()));
        Ok(rx)
    }

    fn instance_id(&self) -> u64 {
        self.instance_id
    }

    fn breaker_state(&self) -> BreakerState {
        self.breaker.lock().state(self.clock.now())
    }

    fn error_count(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }
}

/// What a subscriber task needs.
struct Subscriber {
    client: Client,
    /// The server's address, for errors.
    server: Arc<str>,
    channel: Vec<u8>,
    own_id: u64,
    /// Deadline of connecting + subscribing, and of each health ping.
    limit: Duration,
}

/// Why [`Subscriber::pump`] returned.
enum Ended {
    /// The tier or the receiver was dropped: stop.
    Stop,
    /// The connection was lost (the reason is logged): reconnect.
    Lost(String),
}

impl Subscriber {
    /// A new pub/sub connection subscribed to the channel.
    async fn open(&self) -> Result<(PubSubSink, PubSubStream)> {
        with_deadline("subscribe", &self.server, self.limit, async {
            let (mut sink, stream) = self.client.get_async_pubsub().await?.split();
            sink.subscribe(&self.channel).await?;
            Ok((sink, stream))
        })
        .await
    }

    /// Delivers notices until stopped; reconnects whenever the connection is
    /// lost, then sends [`Invalidation::All`].
    async fn run(
        self,
        mut sink: PubSubSink,
        mut stream: PubSubStream,
        tx: mpsc::UnboundedSender<Invalidation>,
        mut shutdown: watch::Receiver<()>,
    ) {
        loop {
            match self.pump(&mut sink, &mut stream, &tx, &mut shutdown).await {
                Ended::Stop => return,
                Ended::Lost(reason) => {
                    tracing::warn!(channel = %String::from_utf8_lossy(&self.channel), %reason, "L2 invalidation subscription lost; resubscribing");
                }
            }
            let mut backoff = RESUBSCRIBE_MIN_BACKOFF;
            loop {
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = shutdown.changed() => return,
                    () = tx.closed() => return,
                }
                match self.open().await {
                    Ok((s, st)) => {
                        (sink, stream) = (s, st);
                        break;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "L2 resubscription attempt failed");
                        backoff = (backoff * 2).min(RESUBSCRIBE_MAX_BACKOFF);
                    }
                }
            }
            // Notices published while we were away are lost: L1 may be stale.
            if tx.send(Invalidation::All).is_err() {
                return;
            }
        }
    }

    async fn pump(
        &self,
        sink: &mut PubSubSink,
        stream: &mut PubSubStream,
        tx: &mpsc::UnboundedSender<Invalidation>,
        shutdown: &mut watch::Receiver<()>,
    ) -> Ended {
        let mut ping = tokio::time::interval(PUBSUB_PING_INTERVAL);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ping.reset();
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else {
                        return Ended::Lost("connection closed".into());
                    };
                    match notice::decode(msg.get_payload_bytes(), self.own_id) {
                        Ok(Some(inv)) => {
                            if tx.send(inv).is_err() {
                                return Ended::Stop;
                            }
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "malformed L2 invalidation notice ignored"),
                    }
                }
                _ = ping.tick() => {
                    match tokio::time::timeout(self.limit, sink.ping::<Value>()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => return Ended::Lost(e.to_string()),
                        Err(_) => return Ended::Lost(format!("no answer to PING within {:?}", self.limit)),
                    }
                }
                _ = shutdown.changed() => return Ended::Stop,
                () = tx.closed() => return Ended::Stop,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn px_rounds_up_and_zero_means_none() {
        assert_eq!(px_millis(None), None);
        assert_eq!(px_millis(Some(Duration::ZERO)), None);
        assert_eq!(px_millis(Some(Duration::from_nanos(1))), Some(1));
        assert_eq!(px_millis(Some(Duration::from_micros(1500))), Some(2));
        assert_eq!(px_millis(Some(Duration::from_secs(3))), Some(3000));
        assert_eq!(px_millis(Some(MAX_L2_TTL)), Some(MAX_L2_TTL.as_secs() * 1000));
        assert_eq!(px_millis(Some(Duration::MAX)), None, "beyond 100 years: no expiry");
    }

    #[test]
    fn glob_metacharacters_are_escaped() {
        assert_eq!(glob_escape("plain"), b"plain".to_vec());
        assert_eq!(glob_escape("a*b?[c]\\"), b"a\\*b\\?\\[c\\]\\\\".to_vec());
    }
}
