//! Value parsers of flags, checked as clap parses the command line: a bad
//! value is refused naming the flag the user typed, in one line
//! (`strata: --rate 0: must be ...`, see `main.rs`), not the configuration
//! field it sets.

use std::fmt::Display;
use std::str::FromStr;

use strata_core::config::MAX_L2_TTL;
use strata_core::policy::eviction::EvictionConfig;
use strata_sim::config::{MAX_INSTANCES, MAX_TIME_SCALE, MIN_RATE_PER_SEC};

/// A whole number of at least 1.
pub(crate) fn at_least_one<T>(text: &str) -> Result<T, String>
where
    T: FromStr + PartialOrd + From<u8>,
    T::Err: Display,
{
    let n: T = text.trim().parse().map_err(|e: T::Err| e.to_string())?;
    if n < T::from(1) {
        return Err("must be at least 1".into());
    }
    Ok(n)
}

/// A whole number from 1 to `max`.
fn between_one_and(text: &str, max: u64) -> Result<u64, String> {
    let n = at_least_one::<u64>(text)?;
    if n > max {
        return Err(format!("must be at most {max}"));
    }
    Ok(n)
}

/// Simulated instances: 1 to [`MAX_INSTANCES`].
pub(crate) fn instances(text: &str) -> Result<u32, String> {
    between_one_and(text, u64::from(MAX_INSTANCES)).map(|n| n as u32)
}

/// Requests a second: finite and at least [`MIN_RATE_PER_SEC`].
pub(crate) fn rate(text: &str) -> Result<f64, String> {
    let v = number(text)?;
    if !(v.is_finite() && v >= MIN_RATE_PER_SEC) {
        return Err(format!("must be a finite number of at least {MIN_RATE_PER_SEC} requests a second"));
    }
    Ok(v)
}

/// A multiplier of trace time: 0 to [`MAX_TIME_SCALE`].
pub(crate) fn time_scale(text: &str) -> Result<f64, String> {
    let v = number(text)?;
    if !(v.is_finite() && (0.0..=MAX_TIME_SCALE).contains(&v)) {
        return Err(format!("must be between 0 and {MAX_TIME_SCALE}"));
    }
    Ok(v)
}

/// An L2 TTL in milliseconds: 0 (off) to [`MAX_L2_TTL`].
pub(crate) fn l2_ttl_ms(text: &str) -> Result<u64, String> {
    let ms: u64 = text.trim().parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
    let max = MAX_L2_TTL.as_millis();
    if u128::from(ms) > max {
        return Err(format!("must be at most {max} ms (100 years)"));
    }
    Ok(ms)
}

/// An eviction policy's name (`all` where `with_all`), as given.
fn policy_name(text: &str, with_all: bool) -> Result<String, String> {
    if (with_all && text.trim().eq_ignore_ascii_case("all")) || text.parse::<EvictionConfig>().is_ok() {
        return Ok(text.to_owned());
    }
    let all = if with_all { ", or all" } else { "" };
    Err(format!("unknown policy `{text}` (one of {}{all})", EvictionConfig::NAMES.join(", ")))
}

/// An eviction policy's name.
pub(crate) fn policy(text: &str) -> Result<String, String> {
    policy_name(text, false)
}

/// An eviction policy's name, or `all`.
pub(crate) fn policy_or_all(text: &str) -> Result<String, String> {
    policy_name(text, true)
}

fn number(text: &str) -> Result<f64, String> {
    text.trim().parse().map_err(|e: std::num::ParseFloatError| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuse_what_leaves_nothing_to_run() {
        assert_eq!(at_least_one::<u64>("3"), Ok(3));
        assert_eq!(at_least_one::<u32>("0"), Err("must be at least 1".into()));
        assert!(at_least_one::<usize>("x").is_err());
        assert_eq!(instances("1024"), Ok(1024));
        assert_eq!(instances("1025"), Err("must be at most 1024".into()));
        assert_eq!(instances("0"), Err("must be at least 1".into()));
        assert_eq!(rate("0.01"), Ok(0.01));
        for bad in ["0", "-1", "NaN", "inf", "0.001"] {
            assert!(rate(bad).unwrap_err().starts_with("must be a finite number of at least 0.01"), "{bad}");
        }
        assert_eq!(time_scale("0"), Ok(0.0));
        assert!(time_scale("1001").is_err() && time_scale("-1").is_err() && time_scale("NaN").is_err());
        assert_eq!(l2_ttl_ms("0"), Ok(0));
        assert_eq!(
            l2_ttl_ms("18446744073709551615"),
            Err("must be at most 3153600000000 ms (100 years)".into())
        );
        assert_eq!(policy("TinyLFU"), Ok("TinyLFU".into()));
        assert!(policy("all").is_err());
        assert_eq!(policy_or_all("all"), Ok("all".into()));
        assert!(policy_or_all("").unwrap_err().starts_with("unknown policy `` (one of lru, "));
    }
}
