//! # strata-inspector
//!
//! The Strata simulator compiled to WebAssembly, behind a static page.

#![warn(clippy::unwrap_used, clippy::expect_used)]
