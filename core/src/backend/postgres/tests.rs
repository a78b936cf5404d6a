//! Against the real PostgreSQL at `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Every test owns a table with a
//! unique name and drops it when done, even when it fails.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use proptest::prelude::*;
use sqlx::Connection;

use super::*;
use crate::backend::conformance;

fn url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn b(x: &[u8]) -> Bytes {
    Bytes::copy_from_slice(x)
}

/// A unique table, dropped (with its helpers) on drop.
struct Table(String);

impl Table {
    fn new(label: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        Table(format!(
            "strata_t_{label}_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ))
    }

    async fn backend(&self) -> PostgresStateBackend {
        let be = PostgresStateBackend::connect(&url(), &self.0).await.unwrap();
        be.migrate().await.unwrap();
        be
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        let name = self.0.clone();
        // Drop cannot await: a thread with its own runtime does the cleanup.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let mut conn = sqlx::PgConnection::connect(&url()).await.unwrap();
                for stmt in [
                    format!("DROP TABLE IF EXISTS \"{name}\" CASCADE"),
                    format!("DROP TABLE IF EXISTS \"{name}_log\""),
                    format!("DROP FUNCTION IF EXISTS \"{name}_fn\"()"),
                ] {
                    sqlx::query(AssertSqlSafe(stmt)).execute(&mut conn).await.unwrap();
                }
            });
        });
        let _ = cleanup.join();
    }
}

async fn admin() -> sqlx::PgConnection {
    sqlx::PgConnection::connect(&url()).await.unwrap()
}

async fn exec(conn: &mut sqlx::PgConnection, sql: String) {
    sqlx::query(AssertSqlSafe(sql)).execute(conn).await.unwrap();
}

/// Logs every statement PostgreSQL runs on `t` (a statement-level trigger
/// fires once per statement and operation, whatever the row count) so a test
/// can count statements on the server side.
async fn log_statements(t: &Table) {
    let (name, mut c) = (&t.0, admin().await);
    exec(&mut c, format!("CREATE TABLE \"{name}_log\" (op text NOT NULL)")).await;
    exec(
        &mut c,
        format!(
            "CREATE FUNCTION \"{name}_fn\"() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN INSERT INTO \"{name}_log\" VALUES (TG_OP); RETURN NULL; END $$"
        ),
    )
    .await;
    exec(
        &mut c,
        format!(
            "CREATE TRIGGER log AFTER INSERT OR UPDATE OR DELETE ON \"{name}\" \
             FOR EACH STATEMENT EXECUTE FUNCTION \"{name}_fn\"()"
        ),
    )
    .await;
}

/// The operations logged since the last call, counted, and the log emptied.
async fn take_log(t: &Table) -> BTreeMap<String, i64> {
    let mut c = admin().await;
    let sql = format!(
        "WITH d AS (DELETE FROM \"{}_log\" RETURNING op) SELECT op, count(*) FROM d GROUP BY op",
        t.0
    );
    let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&mut c).await.unwrap();
    rows.iter().map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1))).collect()
}

fn log(entries: &[(&str, i64)]) -> BTreeMap<String, i64> {
    entries.iter().map(|(k, v)| ((*k).to_string(), *v)).collect()
}

#[test]
fn successor_is_the_next_prefix() {
    assert_eq!(successor(b""), None);
    assert_eq!(successor(&[0xFF]), None);
    assert_eq!(successor(&[0xFF, 0xFF, 0xFF]), None);
    assert_eq!(successor(b"a"), Some(b"b".to_vec()));
    assert_eq!(successor(&[0x00]), Some(vec![0x01]));
    assert_eq!(successor(&[b'a', 0xFF]), Some(b"b".to_vec()));
    assert_eq!(successor(&[0x01, 0xFE, 0xFF, 0xFF]), Some(vec![0x01, 0xFF]));
}

#[tokio::test]
async fn conformance_crud() {
    let t = Table::new("crud");
    conformance::crud(&t.backend().await).await;
}

#[tokio::test]
async fn conformance_batches() {
    let t = Table::new("batches");
    conformance::batches(&t.backend().await).await;
}

#[tokio::test]
async fn conformance_binary_keys() {
    let t = Table::new("binary");
    conformance::binary_keys(&t.backend().await).await;
}

#[tokio::test]
async fn conformance_list_keys_prefixes() {
    let t = Table::new("list");
    conformance::list_keys_prefixes(&t.backend().await).await;
}

#[tokio::test]
async fn conformance_large_values() {
    let t = Table::new("large");
    conformance::large_values(&t.backend().await).await;
}

#[tokio::test]
async fn batches_are_one_statement_on_the_server() {
    let t = Table::new("onestmt");
    let be = t.backend().await;
    log_statements(&t).await;

    let entries: Vec<(Bytes, Bytes)> = (0u32..1000).map(|i| (b(&i.to_be_bytes()), b(b"v"))).collect();
    let before = be.statements();
    be.put_many(entries.clone()).await.unwrap();
    assert_eq!(be.statements() - before, 1);
    // An upsert fires the INSERT and the UPDATE statement triggers once each.
    assert_eq!(take_log(&t).await, log(&[("INSERT", 1), ("UPDATE", 1)]));
    assert_eq!(be.count().await.unwrap(), 1000);

    let keys: Vec<Bytes> = entries.iter().map(|(k, _)| k.clone()).collect();
    let before = be.statements();
    let got = be.get_many(&keys).await.unwrap();
    assert_eq!(be.statements() - before, 1);
    assert!(got.iter().all(|v| v.as_deref() == Some(&b"v"[..])));

    let mut ops: Vec<BatchOp> = keys[..300].iter().map(|k| (k.clone(), None)).collect();
    ops.extend((2000u32..2300).map(|i| (b(&i.to_be_bytes()), Some(b(b"w")))));
    let before = be.statements();
    be.apply_batch(ops).await.unwrap();
    assert_eq!(be.statements() - before, 1);
    assert_eq!(take_log(&t).await, log(&[("DELETE", 1), ("INSERT", 1), ("UPDATE", 1)]));
    assert_eq!(be.count().await.unwrap(), 1000);

    assert_eq!(be.delete_many(&keys[300..600]).await.unwrap(), 300);
    assert_eq!(take_log(&t).await, log(&[("DELETE", 1)]));

    // The control: single puts are one statement each.
    for (k, v) in &entries[..50] {
        be.put(k, v.clone()).await.unwrap();
    }
    assert_eq!(take_log(&t).await, log(&[("INSERT", 50), ("UPDATE", 50)]));
}

#[tokio::test]
async fn updated_at_moves_on_overwrite() {
    let t = Table::new("updated");
    let be = t.backend().await;
    let sql = format!("SELECT (extract(epoch FROM updated_at) * 1e6)::int8 FROM \"{}\" WHERE key = $1", t.0);
    let micros = async || -> i64 {
        let q = sqlx::query(AssertSqlSafe(sql.clone())).bind(&b"k"[..]);
        q.fetch_one(be.pool()).await.unwrap().get(0)
    };
    be.put(b"k", b(b"1")).await.unwrap();
    let first = micros().await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    be.put_many(vec![(b(b"k"), b(b"2"))]).await.unwrap();
    let second = micros().await;
    assert!(second > first, "{first} then {second}");
}

#[tokio::test]
async fn table_names_are_validated_before_any_sql() {
    // An unreachable URL: a Config error proves nothing was sent.
    let dead = "postgres://postgres@127.0.0.1:1/test";
    for bad in ["x; drop table y", "t\"; DROP TABLE t; --", "a.b.c", "1abc", ""] {
        let e = PostgresStateBackend::connect(dead, bad).await.unwrap_err();
        assert!(matches!(&e, StateError::Config { field, .. } if field == "l3.table"), "{bad:?}: {e}");
    }
    let e = PostgresStateBackend::connect("mysql://x", "t").await.unwrap_err();
    assert!(matches!(&e, StateError::Config { field, .. } if field == "l3.url"), "{e}");
}

#[tokio::test]
async fn schema_qualified_and_reserved_names_work() {
    let t = Table::new("Qualified");
    let be = PostgresStateBackend::connect(&url(), &format!("public.{}", t.0)).await.unwrap();
    be.migrate().await.unwrap();
    be.put(b"k", b(b"v")).await.unwrap();
    // Quoted: the name keeps its case.
    let n: i64 = sqlx::query(AssertSqlSafe(format!("SELECT count(*) FROM public.\"{}\"", t.0)))
        .fetch_one(be.pool())
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migrations_do_not_race() {
    let t = Table::new("migrate");
    let be = PostgresStateBackend::connect(&url(), &t.0).await.unwrap();
    let runs: Vec<_> = (0..6)
        .map(|_| {
            let be = be.clone();
            tokio::spawn(async move { be.migrate().await })
        })
        .collect();
    for r in runs {
        r.await.unwrap().unwrap();
    }
    be.migrate().await.unwrap();
    assert_eq!(be.count().await.unwrap(), 0);
}

#[tokio::test]
async fn a_missing_table_is_a_backend_error_naming_the_op() {
    let t = Table::new("missing");
    let be = PostgresStateBackend::connect(&url(), &t.0).await.unwrap();
    let e = be.get(b"k").await.unwrap_err();
    assert!(matches!(e, StateError::Backend { tier: Tier::L3, backend: "postgres", op: "get", .. }), "{e}");
    let e = be.put_many(vec![(b(b"k"), b(b"v"))]).await.unwrap_err();
    assert!(e.to_string().starts_with("L3 (postgres) put_many failed"), "{e}");
    assert!(e.to_string().contains("does not exist"), "{e}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    // The kernel accepts connections into the backlog of a listener that
    // never reads: the client connects, then waits for an answer forever.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("postgres://postgres@{}/test", silent.local_addr().unwrap());
    let options =
        PostgresOptions { acquire_timeout: Duration::from_millis(300), ..PostgresOptions::default() };
    let outcome =
        tokio::time::timeout(Duration::from_secs(5), PostgresStateBackend::connect_with(&url, "t", options))
            .await
            .expect("connect hung past its acquire timeout");
    let e = outcome.unwrap_err();
    assert!(
        matches!(e, StateError::Timeout { tier: Tier::L3, backend: "postgres", op: "connect", .. }),
        "{e}"
    );
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Connects to `url` with the default 3 s acquire timeout; the error must
/// come well before it.
async fn connect_error_within_1s(url: &str) -> StateError {
    assert_eq!(PostgresOptions::default().acquire_timeout, Duration::from_secs(3));
    let outcome = tokio::time::timeout(Duration::from_secs(1), PostgresStateBackend::connect(url, "t"))
        .await
        .expect("the connect error waited (for the acquire timeout?) instead of failing at once");
    outcome.unwrap_err()
}

#[tokio::test]
async fn a_refused_connect_fails_at_once_naming_the_server() {
    let port = closed_port();
    let e = connect_error_within_1s(&format!("postgres://postgres@127.0.0.1:{port}/test")).await;
    let msg = e.to_string();
    println!("refused: {msg}");
    assert!(
        matches!(e, StateError::Backend { tier: Tier::L3, backend: "postgres", op: "connect", .. }),
        "{msg}"
    );
    assert!(msg.contains(&format!("127.0.0.1:{port}, database test: ")), "no address in {msg}");
    assert!(msg.to_ascii_lowercase().contains("connection refused"), "no cause in {msg}");
}

#[tokio::test]
async fn a_connect_error_does_not_show_the_credentials() {
    let port = closed_port();
    let url = format!("postgres://strata_user:secret-pw@127.0.0.1:{port}/strata_db");
    let e = connect_error_within_1s(&url).await;
    let msg = format!("{e} / {e:?}");
    assert!(msg.contains(&format!("127.0.0.1:{port}, database strata_db")), "no address in {msg}");
    assert!(msg.to_ascii_lowercase().contains("connection refused"), "no cause in {msg}");
    assert!(!msg.contains("secret-pw"), "the password leaked into {msg}");
    assert!(!msg.contains("strata_user"), "the user name leaked into {msg}");
}

#[tokio::test]
async fn an_unknown_host_or_database_is_named_in_the_connect_error() {
    // `.invalid` never resolves (RFC 2606).
    let e = connect_error_within_1s("postgres://postgres@strata-no-such-host.invalid:5439/test").await;
    let msg = e.to_string();
    println!("unknown host: {msg}");
    assert!(matches!(e, StateError::Backend { op: "connect", .. }), "{msg}");
    assert!(msg.contains("strata-no-such-host.invalid:5439, database test: "), "no address in {msg}");

    // The real server, a database it does not have (the password is
    // ignored by trust auth, and must not show either).
    let opts: PgConnectOptions = url().parse().unwrap();
    let (host, port) = (opts.get_host().to_string(), opts.get_port());
    let url = format!("postgres://postgres:secret-pw@{host}:{port}/strata_no_such_db");
    let e = connect_error_within_1s(&url).await;
    let msg = e.to_string();
    println!("unknown database: {msg}");
    assert!(matches!(e, StateError::Backend { op: "connect", .. }), "{msg}");
    assert!(msg.contains(&format!("{host}:{port}, database strata_no_such_db: ")), "no address in {msg}");
    assert!(msg.contains("does not exist"), "no cause in {msg}");
    assert!(!msg.contains("secret-pw"), "the password leaked into {msg}");
}

/// `Duration::MAX` ("wait as long as it takes") connects and serves instead
/// of overflowing sqlx's `Instant::now() + acquire_timeout`.
#[tokio::test]
async fn an_unbounded_acquire_timeout_works() {
    let t = Table::new("unbounded");
    let options = PostgresOptions { acquire_timeout: Duration::MAX, ..PostgresOptions::default() };
    let be = PostgresStateBackend::connect_with(&url(), &t.0, options).await.unwrap();
    be.migrate().await.unwrap();
    be.put(b"k", b(b"v")).await.unwrap();
    assert_eq!(be.get(b"k").await.unwrap(), Some(b(b"v")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_overlapping_batches_do_not_deadlock() {
    let t = Table::new("deadlock");
    let be = t.backend().await;
    let before = be.statements();
    let tasks: Vec<_> = (0u32..6)
        .map(|task| {
            let be = be.clone();
            tokio::spawn(async move {
                for round in 0u32..20 {
                    // Each task writes the same 200 keys in a different order.
                    let mut keys: Vec<u32> = (0..200).collect();
                    keys.rotate_left(((task * 37 + round * 11) % 200) as usize);
                    if task % 2 == 1 {
                        keys.reverse();
                    }
                    let entries = keys.iter().map(|k| (b(&k.to_be_bytes()), b(&[task as u8]))).collect();
                    be.put_many(entries).await?;
                    let ops = keys[..50].iter().map(|k| (b(&k.to_be_bytes()), None)).collect();
                    be.apply_batch(ops).await?;
                }
                Ok::<_, StateError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(be.statements() - before, 6 * 20 * 2, "no statement was retried after a deadlock");
    let all: Vec<Bytes> = (0u32..200).map(|k| b(&k.to_be_bytes())).collect();
    let vals = be.get_many(&all).await.unwrap();
    assert!(vals.iter().flatten().all(|v| v.len() == 1 && v[0] < 6), "{vals:?}");
    assert_eq!(be.count().await.unwrap(), vals.iter().flatten().count() as u64);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, rng_seed: proptest::test_runner::RngSeed::Fixed(0x9_0057), ..ProptestConfig::default() })]

    #[test]
    fn matches_a_btreemap(ops in prop::collection::vec(conformance::model_op(), 1..30)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let t = Table::new("model");
        rt.block_on(async {
            let be = t.backend().await;
            conformance::matches_model(&be, ops).await;
            be.close().await;
        });
    }
}

/// A write that waits for a row lock past the op timeout is cancelled by
/// the server, not left to commit after the client gave up: once the lock
/// is released the row still holds the old value (it held the new one
/// before the server-side statement timeout).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_write_never_commits_later() {
    assert_eq!(server_statement_timeout(Duration::from_secs(1)), Some(900));
    assert_eq!(server_statement_timeout(Duration::MAX), None);
    let t = Table::new("late_commit");
    t.backend().await.put(b"k", b(b"old")).await.unwrap();
    let opts = PostgresOptions { op_timeout: Duration::from_secs(1), ..PostgresOptions::default() };
    let be = PostgresStateBackend::connect_with(&url(), &t.0, opts).await.unwrap();
    let mut locker = admin().await;
    let mut tx = locker.begin().await.unwrap();
    sqlx::query(AssertSqlSafe(format!("SELECT 1 FROM \"{}\" WHERE key = $1 FOR UPDATE", t.0)))
        .bind(&b"k"[..])
        .execute(&mut *tx)
        .await
        .unwrap();
    let err = be.put(b"k", b(b"new")).await.unwrap_err();
    tokio::time::sleep(Duration::from_millis(1_500)).await; // past the op timeout
    tx.rollback().await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        be.get(b"k").await.unwrap().as_deref(),
        Some(&b"old"[..]),
        "the write failed ({err}) and must not land"
    );
}
