//! Value parsers of flags, checked as clap parses the command line: a bad
//! value is refused naming the flag the user typed (`invalid value '0' for
//! '--rounds <ROUNDS>': must be at least 1`), not the
//! configuration field it sets.

use std::fmt::Display;
use std::str::FromStr;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuse_what_leaves_nothing_to_run() {
        assert_eq!(at_least_one::<u64>("3"), Ok(3));
        assert_eq!(at_least_one::<u32>("0"), Err("must be at least 1".into()));
        assert!(at_least_one::<usize>("x").is_err());
    }
}
