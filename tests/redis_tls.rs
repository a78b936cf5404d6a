//! `rediss://` and AUTH against a private Redis started by this test on a
//! free port (TLS only, `requirepass`), with a throw-away CA made by
//! `openssl`. The shared server on 6379 is not involved.
//!
//! Skipped (with a message) only when `redis-server` or `openssl` is not
//! installed.

#[path = "support/private_redis.rs"]
mod private_redis;
#[path = "support/redis_env.rs"]
mod redis_env;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use private_redis::{PrivateRedis, free_port, have};
use redis_env::{clock, config};
use strata::core::StateError;
use strata::core::l2::{L2Tier, RedisTier};

const PASSWORD: &str = "s3cret-pass";

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("run openssl");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// ca.crt, and server.crt/server.key for 127.0.0.1 signed by it.
fn make_certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=strata test CA"]);
    run(dir, &ca);
    let mut csr = vec!["req"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    run(dir, &csr);
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("write ext.cnf");
    run(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

async fn start_tls_server(dir: &Path, port: u16) -> PrivateRedis {
    let d = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let port_arg = port.to_string();
    let (cert, key, ca, data) = (d("server.crt"), d("server.key"), d("ca.crt"), d(""));
    let args = [
        "--port",
        "0",
        "--tls-port",
        &port_arg,
        "--tls-cert-file",
        &cert,
        "--tls-key-file",
        &key,
        "--tls-ca-cert-file",
        &ca,
        "--tls-auth-clients",
        "no",
        "--requirepass",
        PASSWORD,
        "--dir",
        &data,
    ];
    PrivateRedis::start(port, &args).await
}

#[tokio::test]
async fn rediss_with_password_works_and_bad_credentials_are_clear_errors() {
    if !have("redis-server") || !have("openssl") {
        eprintln!("SKIPPED: redis-server or openssl not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    make_certificates(dir.path());
    // rustls-native-certs reads the trusted roots from SSL_CERT_FILE. This
    // test binary holds this one test, so no other thread reads the
    // environment meanwhile.
    unsafe { std::env::set_var("SSL_CERT_FILE", dir.path().join("ca.crt")) };
    let port = free_port();
    let _server = start_tls_server(dir.path(), port).await;

    let good = format!("rediss://:{PASSWORD}@127.0.0.1:{port}");
    let t = RedisTier::connect(&config(&good, "tls"), clock()).await.expect("TLS + AUTH connect");
    t.put(b"k", Bytes::from_static(b"over tls"), None).await.unwrap();
    assert_eq!(t.get(b"k").await.unwrap(), Some(Bytes::from_static(b"over tls")));
    let mut rx = t.subscribe_invalidations().await.expect("pub/sub over TLS");
    let other = RedisTier::connect(&config(&good, "tls"), clock()).await.unwrap();
    let mut cfg = config(&good, "tls");
    cfg.namespace = t.namespace().to_string();
    let peer = RedisTier::connect(&cfg, clock()).await.unwrap();
    peer.publish_invalidation(&[Bytes::from_static(b"k")]).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(2), rx.recv()).await.expect("notice over TLS");
    assert_eq!(got, Some(strata::core::l2::Invalidation::Key(Bytes::from_static(b"k"))));
    drop(other);

    let wrong = format!("rediss://:wrong@127.0.0.1:{port}");
    let err = RedisTier::connect(&config(&wrong, "tls"), clock()).await.unwrap_err();
    println!("wrong password: {err}");
    assert!(matches!(err, StateError::Backend { op: "connect", .. }), "{err}");
    assert!(err.to_string().to_ascii_lowercase().contains("auth"), "{err}");

    let none = format!("rediss://127.0.0.1:{port}");
    let err = RedisTier::connect(&config(&none, "tls"), clock()).await.unwrap_err();
    println!("no password: {err}");
    assert!(err.to_string().to_ascii_lowercase().contains("auth"), "{err}");

    // Plain redis:// to a TLS-only port fails to connect, within the deadline.
    let plain = format!("redis://:{PASSWORD}@127.0.0.1:{port}");
    let err = RedisTier::connect(&config(&plain, "tls"), clock()).await.unwrap_err();
    println!("plain to TLS port: {err}");
}
