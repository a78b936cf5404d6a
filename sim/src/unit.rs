//! What a cache capacity counts: objects or bytes.

use serde::{Deserialize, Serialize};

use crate::trace::Request;

/// The unit of a capacity. In [`Unit::Objects`] every object weighs 1 (as
/// libCacheSim's `--ignore-obj-size`); in [`Unit::Bytes`] an object weighs
/// its size from the trace (a size of 0 counts as 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Capacity in objects.
    #[default]
    Objects,
    /// Capacity in bytes.
    Bytes,
}

impl Unit {
    /// The weight of the object a request reads or writes.
    #[inline]
    #[must_use]
    pub fn weight(self, r: &Request) -> u64 {
        match self {
            Unit::Objects => 1,
            Unit::Bytes => u64::from(r.size.max(1)),
        }
    }

    /// `"objects"` or `"bytes"`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Unit::Objects => "objects",
            Unit::Bytes => "bytes",
        }
    }
}
