//! The `strata` command-line program.

fn main() {
    println!("strata {}", env!("CARGO_PKG_VERSION"));
}
