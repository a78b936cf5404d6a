//! `strata fleet` as a user runs it, on the machine's Redis: a generated
//! trace with deletes through three engine instances and the simulator,
//! identical tier for tier; and the errors a user can meet (a trace longer
//! than the L2 TTLs allow, Redis unreachable), each one clear line.
#![allow(clippy::unwrap_used)]

#[path = "support/cli.rs"]
mod cli;
#[path = "support/redis_env.rs"]
mod redis_env;

use std::path::{Path, PathBuf};

use cli::{json, one_line_error, strata};
use redis_env::{redis_url, unique_namespace};

/// A Zipf trace of 3,000 requests over 400 keys with 10% sets and 5%
/// deletes, at `rate` requests a second.
fn deletes_trace(dir: &Path, rate: u32) -> PathBuf {
    let path = dir.join(format!("deletes-{rate}.csv"));
    let p = path.to_str().unwrap();
    let rate = rate.to_string();
    let args = ["gen", "-o", p, "--keys", "400", "--requests", "3000", "--alpha", "0.9"];
    cli::ok(
        &[&args[..], &["--write-ratio", "0.1", "--delete-ratio", "0.05", "--rate", &rate, "--seed", "5"]]
            .concat(),
    );
    path
}

#[test]
fn engine_and_simulator_agree_tier_for_tier() {
    let dir = tempfile::tempdir().unwrap();
    let trace = deletes_trace(dir.path(), 20_000);
    let ns = unique_namespace("cli-fleet");
    let config = dir.path().join("cache.toml");
    let toml = format!(
        "[l1]\ncapacity = {{ entries = 80 }}\nnegative_ttl_ms = 60000\n\n[l2]\nurl = \"{}\"\nnamespace = \"strata\"\nnegative_ttl_ms = 60000\ntimeout_ms = 2000\ncapacity = {{ entries = 50 }}\n",
        redis_url()
    );
    std::fs::write(&config, toml).unwrap();
    // A service's namespace ("strata") and L2 capacity are not used.
    let (trace, config) = (trace.to_str().unwrap(), config.to_str().unwrap());
    let args = ["fleet", trace, "--config", config, "--instances", "3", "--namespace", &ns];
    let r = json(&[&args[..], &["--routing", "random", "--json"]].concat());
    assert_eq!(r["requests"], 3000);
    assert_eq!(r["instances"], 3);
    assert_eq!(r["identical"], true);
    assert_eq!(r["engine"], r["simulator"]);
    assert_eq!(r["engine"], r["fast"]);
    assert!(
        r["first_difference"].is_null(),
        "every get served from the same tier: {}",
        r["first_difference"]
    );
    let e = &r["engine"];
    for (field, least) in
        [("l1_hits", 500), ("l2_hits", 200), ("l2_negative_hits", 10), ("negative_hits", 10)]
    {
        assert!(e[field].as_u64().unwrap() >= least, "{field}: {e}");
    }
    // The table says so too.
    let out = strata(&args);
    assert!(out.status.success());
    let mut conn = redis::Client::open(redis_url()).unwrap().get_connection().unwrap();
    let left: Vec<String> = redis::cmd("KEYS").arg(format!("{ns}:*")).query(&mut conn).unwrap();
    assert!(left.is_empty(), "the namespace is emptied after the replay: {left:?}");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("every count identical in engine, simulator and fast loop: yes"), "{table}");
}

#[test]
fn refuses_a_trace_longer_than_the_tombstones_live() {
    let dir = tempfile::tempdir().unwrap();
    // 3,000 requests at 100 a second span 30 s; tombstones live 10 s.
    let trace = deletes_trace(dir.path(), 100);
    let ns = unique_namespace("cli-fleet-long");
    let err =
        one_line_error(&["fleet", trace.to_str().unwrap(), "--redis", &redis_url(), "--namespace", &ns]);
    assert!(
        err.contains("deletes-100.csv: the trace spans") && err.contains("shortest L2 TTL in play (10s)"),
        "{err}"
    );
}

#[test]
fn an_unreachable_redis_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let trace = deletes_trace(dir.path(), 20_000);
    let err =
        one_line_error(&["fleet", trace.to_str().unwrap(), "--redis", "redis://user:secret@127.0.0.1:1/0"]);
    assert!(err.starts_with("strata: Redis at redis://127.0.0.1:1/0: "), "names the address: {err}");
    assert!(!err.contains("secret"), "not the password: {err}");

    // A server that is not Redis: its parse error once, not once per retry.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut buf = [0; 1024];
                let _ = conn.read(&mut buf);
                let _ = conn.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            });
        }
    });
    let url = format!("redis://127.0.0.1:{port}");
    let err = one_line_error(&["fleet", trace.to_str().unwrap(), "--redis", &url]);
    assert!(err.starts_with(&format!("strata: Redis at {url}: ")), "{err}");
    let parts: Vec<&str> = err.split(": ").collect();
    let mut once = parts.clone();
    once.dedup();
    assert_eq!(parts, once, "nothing said twice in a row: {err}");
}
