//! Runs the inspector's `Session` natively: the same code the page runs in
//! WebAssembly, for the end-to-end test to compare with (and for profiling).
//!
//! `cargo run -p strata-inspector --example native_run -- TRACE CONFIG_JSON`
//! prints the run's output (`RunOutput`) as JSON, without the SVG charts.

use std::{env, fs};

use anyhow::{Context, bail};
use strata_inspector::params::PageConfig;
use strata_inspector::session::Session;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = env::args().skip(1).collect();
    let [trace, config] = args.as_slice() else {
        bail!("usage: native_run TRACE CONFIG_JSON");
    };
    let bytes = fs::read(trace).with_context(|| format!("{trace}: cannot read"))?;
    let name =
        std::path::Path::new(trace).file_name().map_or(trace.clone(), |n| n.to_string_lossy().into_owned());
    let cfg = PageConfig::from_json(config)?;
    let mut session = Session::default();
    session.load(&bytes, &name, None, &mut |_, _, _| {})?;
    let out = session.run(&cfg, &mut |_, _, _| {})?;
    let mut json = serde_json::to_value(&out)?;
    if let Some(o) = json.as_object_mut() {
        o.remove("svg");
    }
    println!("{}", serde_json::to_string(&json)?);
    Ok(())
}
