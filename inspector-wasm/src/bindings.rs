//! The JavaScript API (wasm-bindgen). Thin: it converts between JS values
//! and the plain-Rust [`Session`], which holds the logic and is tested
//! natively. Results cross as JSON strings; errors as JS `Error`s whose
//! message names the file, line or setting at fault.

use js_sys::Function;
use strata_core::policy::eviction::EvictionConfig;
use strata_sim::trace::TraceFormat;
use wasm_bindgen::prelude::*;

use crate::InspectError;
use crate::params::PageConfig;
use crate::session::Session;

fn js_err(e: InspectError) -> JsError {
    JsError::new(&e.to_string())
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, JsError> {
    serde_json::to_string(value).map_err(|e| JsError::new(&format!("serialising the result: {e}")))
}

/// Calls `f(phase, done, total)` when present; a throwing callback is ignored.
fn reporter(f: Option<&Function>) -> impl FnMut(&str, u64, u64) + '_ {
    move |phase, done, total| {
        if let Some(f) = f {
            let _ = f.call3(&JsValue::NULL, &phase.into(), &(done as f64).into(), &(total as f64).into());
        }
    }
}

/// The simulator with one loaded trace.
#[wasm_bindgen]
#[derive(Default)]
pub struct Inspector {
    session: Session,
}

#[wasm_bindgen]
impl Inspector {
    /// An inspector with no trace.
    #[wasm_bindgen(constructor)]
    #[must_use]
    pub fn new() -> Inspector {
        Inspector::default()
    }

    /// Loads the trace in `bytes`, a file called `name` (format and
    /// compression from the name unless `format` is given); returns its
    /// statistics as JSON. `progress(phase, done, total)` is called every
    /// 50 000 requests read (`total` 0: unknown).
    ///
    /// # Errors
    /// The format is unknown or the trace unreadable (the message names the
    /// file and line or byte offset).
    pub fn load(
        &mut self,
        bytes: &[u8],
        name: &str,
        format: Option<String>,
        progress: Option<Function>,
    ) -> Result<String, JsError> {
        let summary = self
            .session
            .load(bytes, name, format.as_deref(), &mut reporter(progress.as_ref()))
            .map_err(js_err)?;
        to_json(summary)
    }

    /// The statistics of the loaded trace as JSON.
    ///
    /// # Errors
    /// No trace is loaded.
    pub fn stats(&self) -> Result<String, JsError> {
        to_json(&self.session.trace().map_err(js_err)?.summary)
    }

    /// Runs the page's settings (`PageConfig` JSON) on the loaded trace and
    /// returns the results as JSON (`RunOutput`): the simulator's report
    /// (summary, time series, latency CDF and histogram), the same settings
    /// with every policy, the miss-ratio curves, and the charts as SVG.
    /// `progress(phase, done, total)` is called every 65 536 requests.
    ///
    /// # Errors
    /// No trace is loaded, or a setting is invalid (named in the message).
    pub fn run(&mut self, config: &str, progress: Option<Function>) -> Result<String, JsError> {
        let cfg = PageConfig::from_json(config).map_err(js_err)?;
        let out = self.session.run(&cfg, &mut reporter(progress.as_ref())).map_err(js_err)?;
        to_json(&out)
    }
}

/// The `strata_core::CacheConfig` TOML of the page's settings (`PageConfig`
/// JSON): the very file the native tuner writes and the engine loads.
///
/// # Errors
/// A setting is invalid (named in the message).
#[wasm_bindgen(js_name = exportToml)]
pub fn export_toml(config: &str) -> Result<String, JsError> {
    let cfg = PageConfig::from_json(config).map_err(js_err)?;
    cfg.cache_config().and_then(|c| Ok(c.to_toml_string()?)).map_err(js_err)
}

/// The eviction policy names, as a JSON array.
#[wasm_bindgen]
#[must_use]
pub fn policies() -> String {
    let names: Vec<&str> = EvictionConfig::all().iter().map(EvictionConfig::name).collect();
    serde_json::to_string(&names).unwrap_or_default()
}

/// The trace format names, as a JSON array.
#[wasm_bindgen]
#[must_use]
pub fn formats() -> String {
    let names: Vec<&str> = TraceFormat::ALL.iter().map(|f| f.name()).collect();
    serde_json::to_string(&names).unwrap_or_default()
}
