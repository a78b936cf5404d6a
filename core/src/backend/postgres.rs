//! [`PostgresStateBackend`]: L3 in a PostgreSQL table through sqlx (feature
//! `postgres`).
//!
//! The table is `key BYTEA PRIMARY KEY, value BYTEA NOT NULL, updated_at
//! TIMESTAMPTZ NOT NULL DEFAULT now()` ([`PostgresStateBackend::migrate`]
//! creates it). Its name comes from configuration and is validated as an SQL
//! identifier ([`validate_table_name`]) before it reaches any SQL text; keys
//! and values are always bound parameters.
//!
//! # Round trips
//!
//! Every method is one statement: `put_many` one `INSERT … SELECT FROM
//! UNNEST(…) ON CONFLICT DO UPDATE`, `get_many` one `WHERE key = ANY($1)`,
//! `delete_many` one `DELETE … ANY`, `apply_batch` one statement whose
//! data-modifying CTE deletes while the outer `INSERT` upserts (a single
//! statement is a single transaction: all of the batch or none).
//! `list_keys(prefix)` is a range scan `key >= prefix AND key <
//! successor(prefix)` on the primary key index (bytea compares bytewise), not
//! `LIKE`, so 0x00, 0xFF and `%` in keys are just bytes.
//!
//! Multi-key writes (`put_many`, `delete_many`, `apply_batch`) of one table
//! run one at a time: each statement first takes a transaction-scoped
//! advisory lock of the table. Two batches that lock overlapping rows in
//! different orders (an `apply_batch` upserts, then deletes) would otherwise
//! deadlock, and PostgreSQL only notices a deadlock after `deadlock_timeout`
//! (1 s). Single-key writes hold one row at a time, so they cannot deadlock
//! and do not take the lock. A deadlock or serialization failure caused by
//! some other writer is retried ([`WRITE_ATTEMPTS`] attempts).
//!
//! # Failure
//!
//! Getting a connection is bounded by [`PostgresOptions::acquire_timeout`]
//! and every statement by [`PostgresOptions::op_timeout`]: a dead or
//! unreachable server gives [`StateError::Timeout`] or
//! [`StateError::Backend`], never a hang. The pool drops broken connections
//! and opens new ones, so the backend works again once the server is back.
//!
//! The server cancels a statement at nine tenths of the op timeout itself
//! (its `statement_timeout`), so a write the client reports as timed out
//! has not committed: left to run, one waiting for a row lock could commit
//! later, after the engine reported the write failed and readers cached the
//! old row again (a timeout that expires in the network, not at the server,
//! still leaves the outcome unknown).
//!
//! [`PostgresStateBackend::connect`] first opens one connection of its own,
//! so a refused connection, an unknown host or a rejected login fails at
//! once with the cause (the pool would retry a refused connection until the
//! acquire timeout and then only report the timeout). Connect errors name
//! the server and database, never the URL's user or password:
//! `L3 (postgres) connect failed: 127.0.0.1:5433, database test: Connection
//! refused (os error 111)`.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgQueryResult, PgRow};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

use super::{BatchOp, StateBackend};
use crate::config::validate_table_name;
use crate::error::{AtServer, Result, StateError, Tier};

const NAME: &str = "postgres";

/// Default of [`PostgresOptions::acquire_timeout`].
pub const DEFAULT_ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);
/// Default of [`PostgresOptions::op_timeout`].
pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(30);
/// Default of [`PostgresOptions::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: u32 = 8;
/// How many times a write is tried when PostgreSQL aborts it for a deadlock
/// or a serialization failure.
pub const WRITE_ATTEMPTS: u32 = 3;

/// Pool and timeout settings of a [`PostgresStateBackend`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostgresOptions {
    /// Most connections in the pool.
    pub max_connections: u32,
    /// Connections kept open even when idle.
    pub min_connections: u32,
    /// Longest wait for a connection, connecting included (also bounds
    /// [`PostgresStateBackend::connect`]). At most about 30 years: a longer
    /// one (`Duration::MAX`) waits that long.
    pub acquire_timeout: Duration,
    /// Longest time one statement may take, waiting for a connection
    /// included.
    pub op_timeout: Duration,
    /// Ping an idle connection before handing it out (one extra round trip
    /// per operation; it finds connections that died while idle, so after an
    /// outage the first operations do not fail on stale connections).
    pub test_before_acquire: bool,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        Self {
            max_connections: DEFAULT_MAX_CONNECTIONS,
            min_connections: 0,
            acquire_timeout: DEFAULT_ACQUIRE_TIMEOUT,
            op_timeout: DEFAULT_OP_TIMEOUT,
            test_before_acquire: true,
        }
    }
}

/// The SQL text of every statement, built once from the quoted table name.
#[derive(Debug)]
struct Statements {
    create: Arc<str>,
    get: Arc<str>,
    put: Arc<str>,
    delete: Arc<str>,
    list_from: Arc<str>,
    list_range: Arc<str>,
    clear: Arc<str>,
    count: Arc<str>,
    contains: Arc<str>,
    get_many: Arc<str>,
    put_many: Arc<str>,
    delete_many: Arc<str>,
    apply_batch: Arc<str>,
}

impl Statements {
    /// `t` is the quoted table name, `name` the validated unquoted one.
    fn new(t: &str, name: &str) -> Self {
        let upsert =
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at";
        // The advisory lock of multi-key writes. The uncorrelated `EXISTS`
        // below is a one-time filter evaluated before the first row is
        // written, so the lock is held before any row is touched.
        let lock = format!(
            "w AS MATERIALIZED (SELECT pg_advisory_xact_lock(hashtextextended('strata.write.{name}', 0)))"
        );
        let locked = "EXISTS (SELECT 1 FROM w)";
        let unnest = format!(
            "INSERT INTO {t} (key, value, updated_at) \
             SELECT k, v, now() FROM UNNEST($1::bytea[], $2::bytea[]) AS u(k, v) WHERE {locked} {upsert}"
        );
        Self {
            create: format!(
                "CREATE TABLE IF NOT EXISTS {t} (key BYTEA PRIMARY KEY, value BYTEA NOT NULL, \
                 updated_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            .into(),
            get: format!("SELECT value FROM {t} WHERE key = $1").into(),
            put: format!("INSERT INTO {t} (key, value, updated_at) VALUES ($1, $2, now()) {upsert}").into(),
            delete: format!("DELETE FROM {t} WHERE key = $1").into(),
            list_from: format!("SELECT key FROM {t} WHERE key >= $1 ORDER BY key").into(),
            list_range: format!("SELECT key FROM {t} WHERE key >= $1 AND key < $2 ORDER BY key").into(),
            clear: format!("DELETE FROM {t}").into(),
            count: format!("SELECT count(*) FROM {t}").into(),
            contains: format!("SELECT EXISTS (SELECT 1 FROM {t} WHERE key = $1)").into(),
            get_many: format!("SELECT key, value FROM {t} WHERE key = ANY($1)").into(),
            put_many: format!("WITH {lock} {unnest}").into(),
            delete_many: format!("WITH {lock} DELETE FROM {t} WHERE key = ANY($1) AND {locked}").into(),
            apply_batch: format!(
                "WITH {lock}, deleted AS (DELETE FROM {t} WHERE key = ANY($3::bytea[]) AND {locked}) {unnest}"
            )
            .into(),
        }
    }
}

/// A [`StateBackend`] on one PostgreSQL table, through a connection pool.
///
/// Cloning shares the pool.
#[derive(Clone, Debug)]
pub struct PostgresStateBackend {
    pool: PgPool,
    table: Arc<str>,
    sql: Arc<Statements>,
    options: PostgresOptions,
    statements: Arc<AtomicU64>,
}

/// `"schema"."table"` from a validated name.
fn quote(table: &str) -> String {
    table.split('.').map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(".")
}

/// The smallest byte string greater than every string starting with
/// `prefix`; `None` if there is none (empty prefix or all 0xFF).
fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let keep = prefix.iter().rposition(|&b| b != 0xFF)?;
    let mut next = prefix[..=keep].to_vec();
    next[keep] += 1;
    Some(next)
}

/// Whether PostgreSQL aborted the statement for a deadlock (40P01) or a
/// serialization failure (40001): safe to run again.
fn is_retryable(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if matches!(d.code().as_deref(), Some("40P01" | "40001")))
}

/// Keys of a batch, deduplicated (the last value wins) and sorted.
fn last_wins<V>(entries: impl IntoIterator<Item = (Bytes, V)>) -> BTreeMap<Bytes, V> {
    entries.into_iter().collect()
}

impl PostgresStateBackend {
    /// Connects a pool to `url` for table `table` (`name` or
    /// `schema.name`), with default [`PostgresOptions`]. Does not create the
    /// table: see [`Self::migrate`].
    ///
    /// # Errors
    /// [`StateError::Config`] (`l3.table`, `l3.url`) for an invalid table
    /// name or URL; [`StateError::Backend`] (op `connect`, naming the
    /// server's address and database) at once when the server refuses the
    /// connection or the login, or its name does not resolve;
    /// [`StateError::Timeout`] (op `connect`) when no connection is made
    /// within the acquire timeout (a server that does not answer).
    pub async fn connect(url: &str, table: &str) -> Result<Self> {
        Self::connect_with(url, table, PostgresOptions::default()).await
    }

    /// Connects with `options`.
    ///
    /// # Errors
    /// As [`Self::connect`].
    pub async fn connect_with(url: &str, table: &str, options: PostgresOptions) -> Result<Self> {
        validate_table_name(table)?;
        if options.max_connections == 0 || options.min_connections > options.max_connections {
            return Err(StateError::config(
                "l3.max_connections",
                "must be at least 1 and at least min_connections",
            ));
        }
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StateError::config("l3.url", "must start with postgres:// or postgresql://"));
        }
        let connect: PgConnectOptions =
            url.parse().map_err(|e: sqlx::Error| StateError::config("l3.url", e.to_string()))?;
        let connect = match server_statement_timeout(options.op_timeout) {
            Some(ms) => connect.options([("statement_timeout", ms.to_string())]),
            None => connect,
        };
        let server: Arc<str> = server_name(&connect).into();
        let acquire_timeout = options.acquire_timeout.min(crate::engine::FAR_FUTURE);
        let at_server = |e| match e {
            sqlx::Error::PoolTimedOut => map_err(&options, "connect", e),
            e => StateError::backend(Tier::L3, NAME, "connect", AtServer::new(&server, e)),
        };
        let connecting = async {
            // One direct attempt first: the pool retries a refused
            // connection until its deadline and then reports only a timeout.
            let probe = PgConnection::connect_with(&connect).await.map_err(at_server)?;
            // Only a courtesy to the server (Terminate): the probe is done.
            let _ = probe.close().await;
            PgPoolOptions::new()
                .max_connections(options.max_connections)
                .min_connections(options.min_connections)
                .acquire_timeout(acquire_timeout)
                .test_before_acquire(options.test_before_acquire)
                .connect_with(connect.clone())
                .await
                .map_err(at_server)
        };
        // Probe and pool together stay within the acquire timeout.
        let pool =
            tokio::time::timeout(acquire_timeout, connecting).await.map_err(|_| StateError::Timeout {
                tier: Tier::L3,
                backend: NAME,
                op: "connect",
                after: options.acquire_timeout,
            })??;
        Ok(Self {
            pool,
            sql: Arc::new(Statements::new(&quote(table), table)),
            table: table.into(),
            options,
            statements: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Creates the table if it does not exist (concurrent callers are
    /// serialised by an advisory lock, so two instances starting together do
    /// not race).
    ///
    /// # Errors
    /// [`StateError::Backend`] (op `migrate`), e.g. a missing schema or no
    /// privilege.
    pub async fn migrate(&self) -> Result<()> {
        let op = "migrate";
        let work = async {
            let mut tx = self.pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
                .bind(format!("strata.migrate.{}", self.table))
                .execute(&mut *tx)
                .await?;
            sqlx::query(AssertSqlSafe(self.sql.create.clone())).execute(&mut *tx).await?;
            tx.commit().await
        };
        self.timed(op, work).await
    }

    /// The table name as configured.
    #[must_use]
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The connection pool (shared with clones).
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// How many statements this backend (and its clones) has sent, retries
    /// included: tests use it to show a batch is one statement.
    #[must_use]
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Closes the pool: waits for connections in use to come back, then
    /// closes them all.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs one statement under the op timeout, counting it and mapping its
    /// error.
    async fn timed<T>(&self, op: &'static str, work: impl Future<Output = sqlx::Result<T>>) -> Result<T> {
        self.statements.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(self.options.op_timeout, work).await {
            Ok(done) => done.map_err(|e| map_err(&self.options, op, e)),
            Err(_) => {
                Err(StateError::Timeout { tier: Tier::L3, backend: NAME, op, after: self.options.op_timeout })
            }
        }
    }

    /// [`Self::timed`] for writes, run again after a deadlock or
    /// serialization failure.
    async fn write<T, F, Fut>(&self, op: &'static str, work: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = sqlx::Result<T>>,
    {
        let mut attempt = 1;
        loop {
            let mut retry = false;
            let out = self
                .timed(op, async {
                    let r = work().await;
                    retry = matches!(&r, Err(e) if is_retryable(e));
                    r
                })
                .await;
            if !retry || attempt >= WRITE_ATTEMPTS {
                return out;
            }
            attempt += 1;
        }
    }

    async fn execute(&self, op: &'static str, sql: &Arc<str>, bind: impl Fn(Query) -> Query) -> Result<u64> {
        self.write(op, || bind(sqlx::query(AssertSqlSafe(sql.clone()))).execute(&self.pool))
            .await
            .map(|r: PgQueryResult| r.rows_affected())
    }
}

type Query = sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// How errors name the server of `options`: `host:port` (`[v6]:port`) or
/// the socket path, and the database when the URL names one. Never the user
/// or password.
/// The server's own `statement_timeout` (ms) for an op timeout: nine
/// tenths of it, so that a statement that waits too long (a row lock held
/// by another session) is cancelled by the server, and the client is told
/// so, before the client gives up on it. A statement the client gave up on
/// would otherwise run on and could commit later, after the engine had
/// reported the write failed and readers had cached the old row. `None`
/// (no server limit) for op timeouts beyond PostgreSQL's (about 24 days).
fn server_statement_timeout(op_timeout: Duration) -> Option<u64> {
    let ms = (op_timeout.as_millis() * 9 / 10).max(1);
    u64::try_from(ms).ok().filter(|&ms| ms <= i32::MAX as u64)
}

fn server_name(options: &PgConnectOptions) -> String {
    let (host, port) = (options.get_host(), options.get_port());
    let mut name = match options.get_socket() {
        Some(dir) => format!("{}/.s.PGSQL.{port}", dir.display()),
        None if host.starts_with('/') => format!("{host}/.s.PGSQL.{port}"),
        None if host.contains(':') => format!("[{host}]:{port}"),
        None => format!("{host}:{port}"),
    };
    if let Some(db) = options.get_database() {
        name.push_str(", database ");
        name.push_str(db);
    }
    name
}

fn map_err(options: &PostgresOptions, op: &'static str, e: sqlx::Error) -> StateError {
    match e {
        sqlx::Error::PoolTimedOut => {
            StateError::Timeout { tier: Tier::L3, backend: NAME, op, after: options.acquire_timeout }
        }
        e => StateError::backend(Tier::L3, NAME, op, e),
    }
}

fn value(row: &PgRow, col: usize) -> sqlx::Result<Bytes> {
    row.try_get::<Vec<u8>, _>(col).map(Bytes::from)
}

#[async_trait]
impl StateBackend for PostgresStateBackend {
    async fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        let q = sqlx::query(AssertSqlSafe(self.sql.get.clone())).bind(key);
        let row = self.timed("get", q.fetch_optional(&self.pool)).await?;
        row.map(|r| value(&r, 0)).transpose().map_err(|e| map_err(&self.options, "get", e))
    }

    async fn put(&self, key: &[u8], value: Bytes) -> Result<()> {
        let value = &value[..];
        self.execute("put", &self.sql.put, |q| q.bind(key).bind(value)).await.map(drop)
    }

    async fn delete(&self, key: &[u8]) -> Result<bool> {
        Ok(self.execute("delete", &self.sql.delete, |q| q.bind(key)).await? > 0)
    }

    async fn list_keys(&self, prefix: &[u8]) -> Result<Vec<Bytes>> {
        let q = match successor(prefix) {
            Some(end) => sqlx::query(AssertSqlSafe(self.sql.list_range.clone())).bind(prefix).bind(end),
            None => sqlx::query(AssertSqlSafe(self.sql.list_from.clone())).bind(prefix),
        };
        let rows = self.timed("list_keys", q.fetch_all(&self.pool)).await?;
        rows.iter()
            .map(|r| value(r, 0))
            .collect::<sqlx::Result<_>>()
            .map_err(|e| map_err(&self.options, "list_keys", e))
    }

    async fn clear(&self) -> Result<()> {
        self.execute("clear", &self.sql.clear, |q| q).await.map(drop)
    }

    async fn count(&self) -> Result<u64> {
        let q = sqlx::query(AssertSqlSafe(self.sql.count.clone()));
        let row = self.timed("count", q.fetch_one(&self.pool)).await?;
        let n: i64 = row.try_get(0).map_err(|e| map_err(&self.options, "count", e))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn contains(&self, key: &[u8]) -> Result<bool> {
        let q = sqlx::query(AssertSqlSafe(self.sql.contains.clone())).bind(key);
        let row = self.timed("contains", q.fetch_one(&self.pool)).await?;
        row.try_get(0).map_err(|e| map_err(&self.options, "contains", e))
    }

    async fn get_many(&self, keys: &[Bytes]) -> Result<Vec<Option<Bytes>>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let arr: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
        let q = sqlx::query(AssertSqlSafe(self.sql.get_many.clone())).bind(arr);
        let rows = self.timed("get_many", q.fetch_all(&self.pool)).await?;
        let mut found: HashMap<Bytes, Bytes> = HashMap::with_capacity(rows.len());
        for r in &rows {
            let pair = value(r, 0).and_then(|k| Ok((k, value(r, 1)?)));
            let (k, v) = pair.map_err(|e| map_err(&self.options, "get_many", e))?;
            found.insert(k, v);
        }
        Ok(keys.iter().map(|k| found.get(k).cloned()).collect())
    }

    async fn put_many(&self, entries: Vec<(Bytes, Bytes)>) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        // ON CONFLICT cannot touch one row twice in a statement: keep the
        // last value of each key.
        let entries = last_wins(entries);
        let keys: Vec<&[u8]> = entries.keys().map(|k| &k[..]).collect();
        let values: Vec<&[u8]> = entries.values().map(|v| &v[..]).collect();
        self.execute("put_many", &self.sql.put_many, |q| q.bind(keys.clone()).bind(values.clone()))
            .await
            .map(drop)
    }

    async fn delete_many(&self, keys: &[Bytes]) -> Result<u64> {
        if keys.is_empty() {
            return Ok(0);
        }
        let mut arr: Vec<&[u8]> = keys.iter().map(|k| &k[..]).collect();
        arr.sort_unstable();
        arr.dedup();
        self.execute("delete_many", &self.sql.delete_many, |q| q.bind(arr.clone())).await
    }

    async fn apply_batch(&self, ops: Vec<BatchOp>) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        // Applying in order is the same as applying each key's last op.
        let last = last_wins(ops);
        let (mut put_k, mut put_v, mut del) = (Vec::new(), Vec::new(), Vec::new());
        for (k, v) in &last {
            match v {
                Some(v) => {
                    put_k.push(&k[..]);
                    put_v.push(&v[..]);
                }
                None => del.push(&k[..]),
            }
        }
        let bind = |q: Query| q.bind(put_k.clone()).bind(put_v.clone()).bind(del.clone());
        self.execute("apply_batch", &self.sql.apply_batch, bind).await.map(drop)
    }

    fn name(&self) -> &'static str {
        NAME
    }
}

#[cfg(test)]
mod tests;
