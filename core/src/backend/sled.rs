//! [`SledStateBackend`]: the embedded durable default (feature `sled`).
//!
//! # Durability
//!
//! sled buffers writes and fsyncs them in the background every
//! [`SledOptions::flush_every`] (500 ms by default), and when the last handle
//! is dropped. [`StateBackend::persist`] (or [`SledStateBackend::flush`])
//! forces an fsync; with [`SledOptions::sync_writes`] every write call ends
//! with one, so a returned `put` survives a crash (at the cost of an fsync per
//! call: batch writes with `put_many` / `apply_batch`).
//!
//! # Atomicity
//!
//! `put_many` and `apply_batch` are one `sled::Batch` each, and
//! `delete_many` one sled transaction (whose commit is a batch that also
//! reports which keys existed): after a crash either all of a batch is there
//! or none of it. `clear` removes every key in one batch.
//!
//! # Blocking
//!
//! sled is synchronous. Point operations and small batches take a few
//! microseconds, less than a trip to tokio's blocking pool, so they run on
//! the calling task. Calls that can take long run on the blocking pool
//! (`spawn_blocking`): fsync (`flush`, `sync_writes`, `persist`), the O(n)
//! scans (`list_keys`, `count`, `clear`), opening, and writes of more than
//! [`INLINE_KEYS`] keys or [`INLINE_BYTES`] bytes. Large background batches
//! ([`StateBackend::apply_batch_background`]: the write-behind flusher's)
//! run instead on a thread of the backend's own at a lower CPU priority
//! ([`SledOptions::background_nice`]; see `sled/background.rs`).
//!
//! Measured here (release, 2 busy cores, sled 0.34.7, 64-byte values):
//! insert 3 µs, get 0.3 µs, batch of 16 / 32 / 64 / 256 entries 22 / 36 /
//! 163 / 3150 µs, a 16 KiB / 32 KiB / 1 MiB / 8 MiB value 34 / 269 / 2400 /
//! 66000 µs, fsync 0.7–2 ms, `len()` of 270k keys 99 ms, and a
//! `spawn_blocking` round trip 23–66 µs. The thresholds keep inline calls
//! under ~50 µs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;

use super::{BatchOp, StateBackend};
use crate::error::{Result, StateError, Tier};

mod background;

use background::Background;

const NAME: &str = "sled";

/// Writes (keys plus values) up to this many bytes run on the calling task;
/// larger ones on the blocking pool.
pub const INLINE_BYTES: usize = 16 * 1024;
/// Batches of up to this many keys run on the calling task; larger ones on
/// the blocking pool.
pub const INLINE_KEYS: usize = 32;
/// sled's default background fsync interval.
pub const DEFAULT_FLUSH_EVERY: Duration = Duration::from_millis(500);
/// Default nice value of the background writer thread.
pub const DEFAULT_BACKGROUND_NICE: i32 = crate::config::DEFAULT_SLED_BACKGROUND_NICE;

/// How to open a [`SledStateBackend`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SledOptions {
    /// Background fsync interval; `None`: only on [`StateBackend::persist`],
    /// `sync_writes` and drop.
    pub flush_every: Option<Duration>,
    /// fsync at the end of every write call, so that a returned write is
    /// durable.
    pub sync_writes: bool,
    /// sled's page cache size in bytes; `None`: sled's default (1 GiB).
    pub cache_capacity: Option<u64>,
    /// Linux nice value (-20 to 19) of the thread that applies large
    /// background batches ([`StateBackend::apply_batch_background`], the
    /// write-behind flusher's), so that they yield the CPU to the callers;
    /// a value below the process's own is kept at the process's. `None`:
    /// they run on tokio's blocking pool like the other large writes. Other
    /// systems: a thread at the process's priority.
    pub background_nice: Option<i32>,
}

impl Default for SledOptions {
    fn default() -> Self {
        Self {
            flush_every: Some(DEFAULT_FLUSH_EVERY),
            sync_writes: false,
            cache_capacity: None,
            background_nice: Some(DEFAULT_BACKGROUND_NICE),
        }
    }
}

/// sled failed to open a database directory.
#[derive(Debug, thiserror::Error)]
#[error("cannot open sled database at `{path}`: {source}")]
pub struct OpenError {
    /// The directory.
    pub path: PathBuf,
    /// sled's error.
    #[source]
    pub source: sled::Error,
}

/// A [`StateBackend`] on an embedded sled database: one directory, durable,
/// binary keys in byte order.
///
/// Only one process (and one open handle in a process) can hold a directory
/// at a time; dropping the backend flushes and releases it.
#[derive(Clone, Debug)]
pub struct SledStateBackend {
    db: sled::Db,
    path: PathBuf,
    sync_writes: bool,
    /// The background writer, if `background_nice` is set.
    background: Option<Background>,
}

fn err(op: &'static str) -> impl FnOnce(sled::Error) -> StateError {
    move |e| StateError::backend(Tier::L3, NAME, op, e)
}

fn ivec_bytes(v: sled::IVec) -> Bytes {
    Bytes::from_owner(v)
}

impl SledStateBackend {
    /// Opens (creating if needed) the database in directory `path` with the
    /// default [`SledOptions`].
    ///
    /// # Errors
    /// [`StateError::Backend`] (op `open`) whose source names the path: the
    /// directory cannot be created, is locked by another handle, or holds a
    /// corrupt database.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, SledOptions::default()).await
    }

    /// Opens the database in `path` with `options`.
    ///
    /// If another handle in this process is still releasing the directory's
    /// lock, waits up to one second for it.
    ///
    /// # Errors
    /// As [`SledStateBackend::open`].
    pub async fn open_with(path: impl AsRef<Path>, options: SledOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let background = match options.background_nice {
            Some(nice) => {
                crate::config::check_nice("sled.background_nice", nice)?;
                Some(Background::spawn(nice).map_err(|e| StateError::backend(Tier::L3, NAME, "open", e))?)
            }
            None => None,
        };
        let mut config = sled::Config::new()
            .path(&path)
            .flush_every_ms(options.flush_every.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)));
        if let Some(bytes) = options.cache_capacity {
            config = config.cache_capacity(bytes);
        }
        // Opening recovers the log: file I/O of unbounded length. sled
        // releases its file lock from a background thread shortly after the
        // last handle drops, so a reopen in the same process may briefly
        // find it held: retry that case only, for at most LOCK_WAIT.
        let mut waited = Duration::ZERO;
        loop {
            let c = config.clone();
            let opened = tokio::task::spawn_blocking(move || c.open())
                .await
                .map_err(|e| StateError::backend(Tier::L3, NAME, "open", e))?;
            match opened {
                Ok(db) => return Ok(Self { db, path, sync_writes: options.sync_writes, background }),
                Err(source) if is_lock_held(&source) && waited < LOCK_WAIT => {
                    tokio::time::sleep(LOCK_RETRY).await;
                    waited += LOCK_RETRY;
                }
                Err(source) => {
                    return Err(StateError::backend(Tier::L3, NAME, "open", OpenError { path, source }));
                }
            }
        }
    }

    /// The database directory.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// fsyncs every write made so far; returns the bytes written.
    ///
    /// # Errors
    /// [`StateError::Backend`] (op `flush`) on an I/O error.
    pub async fn flush(&self) -> Result<usize> {
        self.run("flush", true, |db| db.flush()).await
    }

    /// Runs `f` on the database: on the blocking pool if `heavy`, else here.
    async fn run<T, F>(&self, op: &'static str, heavy: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&sled::Db) -> sled::Result<T> + Send + 'static,
    {
        self.run_on(op, heavy, Offload::BlockingPool, f).await
    }

    /// Runs `f` on the database: here, or if `heavy` where `on` says.
    async fn run_on<T, F>(&self, op: &'static str, heavy: bool, on: Offload<'_>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&sled::Db) -> sled::Result<T> + Send + 'static,
    {
        if !heavy {
            return f(&self.db).map_err(err(op));
        }
        let db = self.db.clone();
        let done = match on {
            Offload::BlockingPool => tokio::task::spawn_blocking(move || f(&db))
                .await
                .map_err(|e| StateError::backend(Tier::L3, NAME, op, e))?,
            Offload::Writer(bg) => {
                bg.run(move || f(&db)).await.map_err(|e| StateError::backend(Tier::L3, NAME, op, e))?
            }
        };
        done.map_err(err(op))
    }

    /// Runs the write `f` (see [`Self::run`]), then fsyncs if `sync_writes`.
    async fn write<T, F>(&self, op: &'static str, heavy: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&sled::Db) -> sled::Result<T> + Send + 'static,
    {
        self.write_on(op, heavy, Offload::BlockingPool, f).await
    }

    /// As [`Self::write`], for background work: what would go to the
    /// blocking pool goes to the background writer if there is one.
    async fn write_background<T, F>(&self, op: &'static str, heavy: bool, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&sled::Db) -> sled::Result<T> + Send + 'static,
    {
        let on = self.background.as_ref().map_or(Offload::BlockingPool, Offload::Writer);
        self.write_on(op, heavy, on, f).await
    }

    /// The write `f`, offloaded to `on` if heavy, then an fsync if
    /// `sync_writes`.
    async fn write_on<T, F>(&self, op: &'static str, heavy: bool, on: Offload<'_>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&sled::Db) -> sled::Result<T> + Send + 'static,
    {
        if self.sync_writes {
            // fsync blocks for milliseconds: do the write and the flush in
            // one trip off the calling task.
            let synced = move |db: &sled::Db| {
                let out = f(db)?;
                db.flush()?;
                Ok(out)
            };
            return self.run_on(op, true, on, synced).await;
        }
        self.run_on(op, heavy, on, f).await
    }
}

/// Where a call that can take long runs.
#[derive(Clone, Copy)]
enum Offload<'a> {
    /// tokio's blocking pool.
    BlockingPool,
    /// The backend's background writer (lower priority).
    Writer(&'a Background),
}

/// One sled batch of `ops`. sled's batch keeps the last write per key,
/// which is the in-order result.
fn sled_batch(ops: Vec<BatchOp>) -> sled::Batch {
    let mut batch = sled::Batch::default();
    for (k, v) in ops {
        match v {
            Some(v) => batch.insert(k.as_ref(), v.as_ref()),
            None => batch.remove(k.as_ref()),
        }
    }
    batch
}

fn batch_is_heavy(ops: &[BatchOp]) -> bool {
    let bytes = ops.iter().map(|(k, v)| k.len() + v.as_ref().map_or(0, Bytes::len)).sum();
    is_heavy(ops.len(), bytes)
}

fn is_heavy(keys: usize, bytes: usize) -> bool {
    keys > INLINE_KEYS || bytes > INLINE_BYTES
}

#[async_trait]
impl StateBackend for SledStateBackend {
    async fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        Ok(self.db.get(key).map_err(err("get"))?.map(ivec_bytes))
    }

    async fn put(&self, key: &[u8], value: Bytes) -> Result<()> {
        let heavy = is_heavy(1, key.len() + value.len());
        let key = sled::IVec::from(key);
        self.write("put", heavy, move |db| db.insert(key, value.as_ref()).map(drop)).await
    }

    async fn delete(&self, key: &[u8]) -> Result<bool> {
        let key = sled::IVec::from(key);
        self.write("delete", false, move |db| Ok(db.remove(key)?.is_some())).await
    }

    async fn list_keys(&self, prefix: &[u8]) -> Result<Vec<Bytes>> {
        let prefix = sled::IVec::from(prefix);
        self.run("list_keys", true, move |db| {
            db.scan_prefix(prefix).keys().map(|k| k.map(ivec_bytes)).collect()
        })
        .await
    }

    async fn clear(&self) -> Result<()> {
        self.write("clear", true, |db| {
            let mut batch = sled::Batch::default();
            for k in db.iter().keys() {
                batch.remove(k?);
            }
            db.apply_batch(batch)
        })
        .await
    }

    async fn count(&self) -> Result<u64> {
        self.run("count", true, |db| Ok(db.len() as u64)).await
    }

    async fn contains(&self, key: &[u8]) -> Result<bool> {
        self.db.contains_key(key).map_err(err("contains"))
    }

    async fn get_many(&self, keys: &[Bytes]) -> Result<Vec<Option<Bytes>>> {
        let get_all = |db: &sled::Db, keys: &[Bytes]| -> sled::Result<Vec<Option<Bytes>>> {
            keys.iter().map(|k| Ok(db.get(k)?.map(ivec_bytes))).collect()
        };
        if keys.len() <= INLINE_KEYS {
            return get_all(&self.db, keys).map_err(err("get_many"));
        }
        let keys = keys.to_vec();
        self.run("get_many", true, move |db| get_all(db, &keys)).await
    }

    async fn put_many(&self, entries: Vec<(Bytes, Bytes)>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let bytes = entries.iter().map(|(k, v)| k.len() + v.len()).sum();
        let heavy = is_heavy(entries.len(), bytes);
        self.write("put_many", heavy, move |db| {
            let mut batch = sled::Batch::default();
            for (k, v) in entries {
                batch.insert(k.as_ref(), v.as_ref());
            }
            db.apply_batch(batch)
        })
        .await
    }

    async fn delete_many(&self, keys: &[Bytes]) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let keys = keys.to_vec();
        let heavy = keys.len() > INLINE_KEYS;
        self.write("delete_many", heavy, move |db| {
            // A transaction rather than a bare batch so that the count of
            // present keys is read atomically with the removal; its commit
            // is applied as one batch.
            db.transaction(|tx| {
                let mut present = 0u64;
                for k in &keys {
                    present += u64::from(tx.remove(k.as_ref())?.is_some());
                }
                Ok::<_, sled::transaction::ConflictableTransactionError<std::convert::Infallible>>(present)
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => e,
                sled::transaction::TransactionError::Abort(never) => match never {},
            })
        })
        .await
    }

    async fn apply_batch(&self, ops: Vec<BatchOp>) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let heavy = batch_is_heavy(&ops);
        self.write("apply_batch", heavy, move |db| db.apply_batch(sled_batch(ops))).await
    }

    async fn apply_batch_background(&self, ops: Vec<BatchOp>) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let heavy = batch_is_heavy(&ops);
        self.write_background("apply_batch", heavy, move |db| db.apply_batch(sled_batch(ops))).await
    }

    async fn persist(&self) -> Result<()> {
        self.flush().await.map(drop)
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

/// How long `open` waits for a lock that a dropped handle is releasing.
const LOCK_WAIT: Duration = Duration::from_secs(1);
const LOCK_RETRY: Duration = Duration::from_millis(20);

/// Whether sled failed to open because the directory's lock is held (sled
/// reports it only as an I/O error with this text).
fn is_lock_held(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

#[cfg(test)]
mod tests;
