//! `strata inspect`: serves the inspector's static page (inspector-wasm/www,
//! built by inspector-wasm/build.sh) on 127.0.0.1. A page with ES modules and
//! wasm does not load from `file://`, hence this small server: GET and HEAD
//! of files under one folder, with the MIME types browsers insist on
//! (`application/wasm`, `text/javascript`), one thread per connection.

use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};
use deadline::Deadline;

mod deadline;

/// Arguments of `strata inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8080)]
    pub(crate) port: u16,
    /// Folder to serve (default: the inspector-wasm/www of this source tree).
    #[arg(long)]
    pub(crate) dir: Option<PathBuf>,
}

/// Default folder: the page inside the source tree this binary was built from.
const DEFAULT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/inspector-wasm/www");

/// Longest request head accepted (request line and headers).
const MAX_HEAD: usize = 16 * 1024;

/// Most connections answered at once (a browser opens a handful).
const MAX_CONNECTIONS: usize = 64;

/// Longest a connection may take, request and answer together (the
/// largest file, the page's wasm, is a few MB on loopback): a client that
/// trickles its bytes cannot keep one of the places for longer.
const EXCHANGE_LIMIT: Duration = Duration::from_secs(30);

/// Runs `strata inspect` until the process is stopped.
///
/// # Errors
/// The folder is missing or not built, or the port cannot be bound.
pub(crate) fn run(args: Args) -> anyhow::Result<()> {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    if !dir.join("index.html").is_file() {
        bail!("{}: no index.html (wrong --dir?)", dir.display());
    }
    if !dir.join("pkg").is_dir() {
        bail!("{}: no pkg/ folder: build the page first with inspector-wasm/build.sh", dir.display());
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, args.port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    let addr = listener.local_addr().context("local address")?;
    println!("Strata inspector: http://{addr}/ (serving {}; Ctrl-C stops)", dir.display());
    io::stdout().flush().context("stdout")?;
    serve(&listener, &dir, EXCHANGE_LIMIT);
    Ok(())
}

/// Answers connections on `listener` forever, one thread each, at most
/// [`MAX_CONNECTIONS`] at once (others get 503 at once), each for at most
/// `limit`.
fn serve(listener: &TcpListener, dir: &Path, limit: Duration) {
    let open = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming().flatten() {
        let stream = Deadline::new(stream, limit);
        if open.fetch_add(1, Ordering::AcqRel) >= MAX_CONNECTIONS {
            open.fetch_sub(1, Ordering::AcqRel);
            let _ = respond(stream, 503, "text/plain", b"too many connections\n", true);
            continue;
        }
        let dir = dir.to_path_buf();
        let open = Arc::clone(&open);
        thread::spawn(move || {
            // A client that goes away mid-answer is not our error.
            let _ = handle(stream, &dir);
            open.fetch_sub(1, Ordering::AcqRel);
        });
    }
}

/// Reads one request from `stream` and answers it.
fn handle(stream: Deadline, dir: &Path) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut head = Vec::new();
    loop {
        // Never read past MAX_HEAD + 1 bytes of head, newline or not.
        let start = head.len();
        let budget = (MAX_HEAD + 1 - start) as u64;
        // Past the deadline this fails (`TimedOut`) and the connection closes.
        let n = reader.by_ref().take(budget).read_until(b'\n', &mut head)?;
        if head.len() > MAX_HEAD {
            return respond(stream, 431, "text/plain", b"request head too large\n", false);
        }
        if n == 0 || matches!(&head[start..], b"\r\n" | b"\n") {
            break;
        }
    }
    let Ok(head) = String::from_utf8(head) else {
        return respond(stream, 400, "text/plain", b"request head is not UTF-8\n", false);
    };
    let mut parts = head.lines().next().unwrap_or("").split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let with_body = match method {
        "GET" => true,
        "HEAD" => false,
        _ => return respond(stream, 405, "text/plain", b"only GET and HEAD\n", true),
    };
    let Some(path) = resolve(dir, target) else {
        return respond(stream, 400, "text/plain", b"bad path\n", with_body);
    };
    match fs::read(&path) {
        Ok(body) => respond(stream, 200, mime(&path), &body, with_body),
        Err(_) => respond(stream, 404, "text/plain", b"not found\n", with_body),
    }
}

/// The file under `dir` that the request target names (`/` and folders:
/// their index.html); `None` for anything escaping `dir` or not valid UTF-8.
fn resolve(dir: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    let decoded = percent_decode(path)?;
    let mut out = dir.to_path_buf();
    for c in Path::new(decoded.trim_start_matches('/')).components() {
        match c {
            Component::Normal(part) => out.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if out.is_dir() {
        out.push("index.html");
    }
    Some(out)
}

/// Decodes `%XX` escapes; `None` on a malformed escape or non-UTF-8 result.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The Content-Type of a file, from its extension.
fn mime(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" | "md" | "csv" | "toml" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn respond(
    mut stream: Deadline,
    status: u16,
    content_type: &str,
    body: &[u8],
    with_body: bool,
) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        _ => "Service Unavailable",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use std::net::{SocketAddr, TcpStream};

    use super::*;

    /// Serves `dir` on a free port in a background thread; returns the address.
    fn spawn_for_test(dir: &Path) -> SocketAddr {
        spawn_with_limit(dir, EXCHANGE_LIMIT)
    }

    /// [`spawn_for_test`] with connections limited to `limit`.
    fn spawn_with_limit(dir: &Path, limit: Duration) -> SocketAddr {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        let dir = dir.to_path_buf();
        thread::spawn(move || serve(&listener, &dir, limit));
        addr
    }

    fn get(addr: SocketAddr, request: &str) -> (String, Vec<u8>) {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut all = Vec::new();
        s.read_to_end(&mut all).unwrap();
        let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        (String::from_utf8(all[..split].to_vec()).unwrap(), all[split + 4..].to_vec())
    }

    #[test]
    fn serves_files_with_their_mime_types_and_nothing_outside() {
        let root = tempfile::tempdir().unwrap();
        let www = root.path().join("www");
        fs::create_dir_all(www.join("pkg")).unwrap();
        fs::write(www.join("index.html"), "<!doctype html>").unwrap();
        fs::write(www.join("pkg/a b.wasm"), b"\0asm\x01\0\0\0").unwrap();
        fs::write(www.join("app.js"), "export {}").unwrap();
        fs::write(root.path().join("secret.txt"), "no").unwrap();
        let addr = spawn_for_test(&www);

        let (head, body) = get(addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 200") && head.contains("text/html"), "{head}");
        assert_eq!(body, b"<!doctype html>");

        let (head, body) = get(addr, "GET /pkg/a%20b.wasm?v=1 HTTP/1.1\r\n\r\n");
        assert!(
            head.contains("Content-Type: application/wasm") && head.contains("Content-Length: 8"),
            "{head}"
        );
        assert_eq!(body, b"\0asm\x01\0\0\0");

        let (head, _) = get(addr, "GET /app.js HTTP/1.1\r\n\r\n");
        assert!(head.contains("text/javascript"), "{head}");

        let (head, body) = get(addr, "HEAD /app.js HTTP/1.1\r\n\r\n");
        assert!(head.contains("Content-Length: 9") && body.is_empty(), "{head}");

        for escape in ["/../secret.txt", "/pkg/../../secret.txt", "/%2e%2e/secret.txt"] {
            let (head, _) = get(addr, &format!("GET {escape} HTTP/1.1\r\n\r\n"));
            assert!(head.starts_with("HTTP/1.1 400"), "{escape}: {head}");
        }
        let (head, _) = get(addr, "GET /missing.js HTTP/1.1\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 404"), "{head}");
        let (head, _) = get(addr, "POST / HTTP/1.1\r\n\r\n");
        assert!(head.starts_with("HTTP/1.1 405"), "{head}");
    }

    #[test]
    fn answers_an_endless_head_line_without_waiting_for_its_newline() {
        let www = tempfile::tempdir().unwrap();
        let addr = spawn_for_test(www.path());
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        // One byte past the limit and no newline: the server must not wait for more.
        s.write_all(&vec![b'a'; MAX_HEAD + 1]).unwrap();
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).expect("an answer before the client gives up");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // the test times a network deadline
    fn drops_a_client_that_trickles_its_request_at_the_deadline() {
        let www = tempfile::tempdir().unwrap();
        fs::write(www.path().join("index.html"), "x").unwrap();
        let addr = spawn_with_limit(www.path(), Duration::from_millis(300));
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nX-Slow: ").unwrap();
        // One header byte every 50 ms, each well inside any per-read
        // timeout, for up to 5 s.
        let mut writer = s.try_clone().unwrap();
        let trickle = thread::spawn(move || {
            for _ in 0..100 {
                if writer.write_all(b"a").is_err() {
                    return;
                }
                thread::sleep(Duration::from_millis(50));
            }
        });
        let start = std::time::Instant::now();
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let waited = start.elapsed();
        assert!(waited < Duration::from_secs(3), "the connection stayed open {waited:?}");
        assert!(!answer.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&answer));
        drop(s);
        trickle.join().unwrap();
    }

    #[test]
    fn answers_at_most_max_connections_at_once() {
        let www = tempfile::tempdir().unwrap();
        fs::write(www.path().join("index.html"), "x").unwrap();
        let addr = spawn_for_test(www.path());
        let idle: Vec<_> = (0..MAX_CONNECTIONS).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).expect("an answer without sending a request");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
        // Closed connections free their places.
        drop(idle);
        let served = || -> Option<bool> {
            let mut s = TcpStream::connect(addr).ok()?;
            s.write_all(b"GET / HTTP/1.1\r\n\r\n").ok()?;
            let mut all = Vec::new();
            s.read_to_end(&mut all).ok()?;
            Some(all.starts_with(b"HTTP/1.1 200"))
        };
        for _ in 0..100 {
            if served() == Some(true) {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("no place freed after the idle connections closed");
    }

    #[test]
    fn refuses_an_unbuilt_folder() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("index.html"), "x").unwrap();
        let err = run(Args { port: 0, dir: Some(root.path().to_path_buf()) }).unwrap_err();
        assert!(err.to_string().contains("build.sh"), "{err}");
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%20b%2Fc").as_deref(), Some("a b/c"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%2"), None);
        assert_eq!(percent_decode("%ff"), None);
    }
}
