//! `rediss://` and AUTH against a private Redis started by this test on a
//! free port (TLS only, `requirepass`), with a throw-away CA made by
//! `openssl`. The shared server on 6379 is not involved.
//!
//! Skipped (with a message) only when `redis-server` or `openssl` is not
//! installed.

#[path = "support/redis_env.rs"]
mod redis_env;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use redis_env::{clock, config};
use strata::core::StateError;
use strata::core::l2::{L2Tier, RedisTier};

const PASSWORD: &str = "s3cret-pass";

/// Kills the private server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn have(tool: &str) -> bool {
    Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
}

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

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

async fn start_tls_server(dir: &Path, port: u16) -> Server {
    let d = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let child = Command::new("redis-server")
        .args(["--port", "0", "--tls-port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--tls-cert-file", &d("server.crt"), "--tls-key-file", &d("server.key")])
        .args(["--tls-ca-cert-file", &d("ca.crt"), "--tls-auth-clients", "no"])
        .args(["--requirepass", PASSWORD, "--save", "", "--appendonly", "no", "--dir", &d("")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start redis-server");
    let server = Server(child);
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("private redis-server did not listen on {port}");
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
