//! Shared helpers of the PostgreSQL tests and benches: the server's URL,
//! unique table names, and a guard that drops its table when done (also
//! when a test panics).
#![allow(dead_code, unreachable_pub)]

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{AssertSqlSafe, Connection};
use strata::core::PostgresStateBackend;

/// `DATABASE_URL`, or the machine's server.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// The server's address (host and port of [`database_url`]), for a proxy.
pub fn upstream() -> SocketAddr {
    let url = database_url();
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let host_port = rest.split(['/', '?']).next().unwrap_or(rest);
    let host_port = if host_port.contains(':') { host_port.to_string() } else { format!("{host_port}:5432") };
    host_port.to_socket_addrs().expect("resolve DATABASE_URL host").next().expect("an address")
}

/// [`database_url`] with its host and port replaced by `addr`.
pub fn url_via(addr: SocketAddr) -> String {
    let url = database_url();
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, rest) = rest.rsplit_once('@').map_or(("", rest), |(u, r)| (u, r));
    let path = rest.find(['/', '?']).map_or("", |i| &rest[i..]);
    let at = if user.is_empty() { String::new() } else { format!("{user}@") };
    format!("{scheme}://{at}{addr}{path}")
}

/// A table no other test (or run) uses, dropped when this guard drops.
pub struct Table(pub String);

impl Table {
    /// `strata_t_<label>_<pid>_<n>_<nanos>`.
    pub fn new(label: &str) -> Self {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Table(format!(
            "strata_t_{label}_{}_{}_{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// A migrated backend on this table, directly on the server.
    pub async fn backend(&self) -> PostgresStateBackend {
        let be =
            PostgresStateBackend::connect(&database_url(), &self.0).await.expect("connect to PostgreSQL");
        be.migrate().await.expect("migrate");
        be
    }
}

impl Drop for Table {
    fn drop(&mut self) {
        let sql = format!("DROP TABLE IF EXISTS \"{}\"", self.0);
        // Drop cannot await: a thread with its own runtime does the cleanup.
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(async {
                let mut conn =
                    sqlx::PgConnection::connect(&database_url()).await.expect("connect for cleanup");
                sqlx::query(AssertSqlSafe(sql)).execute(&mut conn).await.expect("drop table");
            });
        });
        let _ = cleanup.join();
    }
}
