//! The JavaScript API in a real browser (headless Chromium through
//! wasm-bindgen-test-runner; see inspector-wasm/test.sh). Native builds see
//! an empty file.
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use strata_inspector::bindings::{Inspector, export_toml, formats, policies};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const WEB07: &[u8] = include_bytes!("../../traces/web07.trace.xz");

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

type Calls = Rc<RefCell<Vec<(String, f64, f64)>>>;
type Callback = Closure<dyn FnMut(String, f64, f64)>;

/// A JS function recording its `(phase, done, total)` calls (and the closure
/// that must outlive it).
fn recorder() -> (js_sys::Function, Calls, Callback) {
    let calls = Rc::new(RefCell::new(Vec::new()));
    let sink = calls.clone();
    let closure = Closure::wrap(Box::new(move |phase: String, done: f64, total: f64| {
        sink.borrow_mut().push((phase, done, total));
    }) as Box<dyn FnMut(String, f64, f64)>);
    let f: js_sys::Function = closure.as_ref().unchecked_ref::<js_sys::Function>().clone();
    (f, calls, closure)
}

#[wasm_bindgen_test]
fn loads_the_cache2k_trace_and_reports_progress() {
    let mut inspector = Inspector::new();
    let (f, calls, _keep) = recorder();
    let stats = json(&inspector.load(WEB07, "web07.trace.xz", None, Some(f)).unwrap());
    assert_eq!(stats["requests"], 76_118);
    assert_eq!(stats["format"], "cache2k");
    assert_eq!(stats["reads"], 76_118);
    assert!(stats["distinct_keys"].as_u64().unwrap() > 1000);
    assert!(stats["zipf_alpha"].as_f64().unwrap() > 0.0);
    assert_eq!(*calls.borrow(), vec![("reading".to_string(), 50_000.0, 0.0)]);
    assert_eq!(json(&inspector.stats().unwrap()), stats);
}

#[wasm_bindgen_test]
fn reads_zstd_csv_with_writes_and_timestamps() {
    let mut inspector = Inspector::new();
    let bytes = include_bytes!("../../traces/zipf1.0-10k.csv.zst");
    let stats = json(&inspector.load(bytes, "zipf1.0-10k.csv.zst", None, None).unwrap());
    assert_eq!((stats["format"].as_str(), stats["has_timestamps"].as_bool()), (Some("csv"), Some(true)));
    assert_eq!(stats["requests"], 100_000);
    let writes = stats["writes"].as_u64().unwrap();
    assert!((9_000..11_000).contains(&writes), "{writes} writes");
    assert_eq!(stats["distinct_keys"].as_u64().map(|k| k <= 10_000), Some(true));
    let alpha = stats["zipf_alpha"].as_f64().unwrap();
    assert!((0.8..1.2).contains(&alpha), "fitted alpha {alpha}");
}

#[wasm_bindgen_test]
fn load_errors_reach_javascript_with_file_and_line() {
    let mut inspector = Inspector::new();
    assert!(inspector.stats().is_err());
    let err = JsValue::from(inspector.load(b"0,1,get\nx,1,get\n", "bad.csv", None, None).unwrap_err());
    let message = js_sys::Error::from(err).message().as_string().unwrap();
    assert!(message.contains("bad.csv:2"), "{message}");
    let err = JsValue::from(inspector.load(b"k\n", "keys", None, None).unwrap_err());
    let message = js_sys::Error::from(err).message().as_string().unwrap();
    assert!(message.contains("keys") && message.contains("format"), "{message}");
    // An explicit format reads the same bytes.
    let stats = json(&inspector.load(b"k\nk\nj\n", "keys", Some("text".into()), None).unwrap());
    assert_eq!((stats["requests"].as_u64(), stats["distinct_keys"].as_u64()), (Some(3), Some(2)));
}

#[wasm_bindgen_test]
fn exports_the_core_config_toml() {
    let cfg = r#"{"l1_capacity": 1234, "policy": "lru", "l2_capacity": 99, "l2_ttl_ms": 5000,
        "write": "write-back", "refresh_threshold": 0.5}"#;
    let text = export_toml(cfg).unwrap();
    let back = strata_core::CacheConfig::from_toml_str(&text, "export").unwrap();
    assert_eq!(back.l1.capacity, strata_core::config::Capacity::Entries(1234));
    assert_eq!(back.l2.unwrap().capacity, Some(strata_core::config::Capacity::Entries(99)));
    assert!(back.refresh.enabled);
    assert!(export_toml(r#"{"l1_capacity": 0, "policy": "lru", "write": "write-back"}"#).is_err());
}

#[wasm_bindgen_test]
fn lists_policies_and_formats() {
    let p = json(&policies());
    assert!(p.as_array().unwrap().iter().any(|n| n == "lru"));
    let f = json(&formats());
    assert!(f.as_array().unwrap().iter().any(|n| n == "cache2k"));
}

/// web07 at LRU 2,000 entries, requests 10 ms apart and constant latencies,
/// so every load finishes before the next request: the L1 misses are
/// the published reference (traces/README.md).
const WEB07_LRU_2000: &str = r#"{"l1_capacity": 2000, "policy": "lru", "write": "write-through",
    "sim": {"arrival": {"mode": "rate", "per_sec": 100},
            "latency": {"l1": {"dist": "constant", "us": 1}, "l3_read": {"dist": "constant", "us": 2000}}}}"#;

#[wasm_bindgen_test]
fn runs_a_config_with_progress_and_returns_report_curves_and_charts() {
    let mut inspector = Inspector::new();
    inspector.load(WEB07, "web07.trace.xz", None, None).unwrap();
    let (f, calls, _keep) = recorder();
    let out = json(&inspector.run(WEB07_LRU_2000, Some(f)).unwrap());
    let report = &out["report"];
    assert_eq!(report["l1"]["lookups"], 76_118);
    assert_eq!(report["l1"]["misses"], 33_873);
    assert_eq!(report["mode"], "full");
    assert!(report["series"].as_array().unwrap().len() >= 100);
    assert!(!report["read_cdf"].as_array().unwrap().is_empty());
    let policies = json(&policies());
    assert_eq!(out["policies"].as_array().unwrap().len(), policies.as_array().unwrap().len());
    assert_eq!(out["curves"].as_array().unwrap().len(), policies.as_array().unwrap().len());
    for chart in ["hit_ratio", "mrc", "latency"] {
        let svg = out["svg"][chart].as_str().unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("class=\"series\""), "{chart}");
    }
    let calls = calls.borrow();
    let phases: Vec<&str> = calls.iter().map(|c| c.0.as_str()).collect();
    assert!(phases.contains(&"replay") && phases.contains(&"LRU curve"), "{phases:?}");
    assert!(calls.iter().all(|c| c.1 <= c.2), "done never passes total");

    // A bad setting is an Error naming it.
    let bad = WEB07_LRU_2000.replace("\"us\": 2000", "\"us\": -1");
    let err = JsValue::from(inspector.run(&bad, None).unwrap_err());
    let message = js_sys::Error::from(err).message().as_string().unwrap();
    assert!(message.contains("latency.l3_read"), "{message}");
}

/// Key hashes (which drive W-TinyLFU's sketch, S3-FIFO's ghost and curve
/// sampling) are the same in the browser as natively: the values pinned in
/// strata-core's native tests, cross-checked with the reference xxHash.
#[wasm_bindgen_test]
fn key_hashes_equal_the_native_ones() {
    assert_eq!(strata_core::l1::hash_key(&b"user:1"[..]), 0x2501_e7c8_34c5_4b62);
    assert_eq!(strata_core::l1::hash_key(&42u64), 0x5fac_5886_a95c_a4be);
}
