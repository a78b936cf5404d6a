//! # strata-inspector
//!
//! The Strata simulator compiled to WebAssembly, behind a static page.
