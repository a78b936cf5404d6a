//! Progress bars on stderr, hidden when stderr is not a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

fn bar(len: u64, template: &str, message: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(message.to_owned());
    pb
}

/// A bar over `len` bytes.
pub(crate) fn bytes(len: u64, message: &str) -> ProgressBar {
    bar(len, "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}", message)
}

/// A bar over `len` items.
pub(crate) fn items(len: u64, message: &str) -> ProgressBar {
    bar(len, "{msg} [{bar:30}] {human_pos}/{human_len} {per_sec} eta {eta}", message)
}

/// A spinner counting `what` (no known total).
pub(crate) fn counter(what: &str, message: &str) -> ProgressBar {
    bar(0, &format!("{{spinner}} {{msg}} {{pos}} {what} {{elapsed}}"), message)
}
