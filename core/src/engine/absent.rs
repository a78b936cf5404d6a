//! The L1 marker of an absent key (see [`crate::policy::absent`]): one
//! static buffer, told apart from every value by its address, so a hit
//! checks a pointer and L1 stores `Bytes` as ever.

use bytes::Bytes;

use crate::policy::absent::ABSENT_MARKER_LEN;

/// The marker's bytes. Content no value is likely to share, so that no
/// other constant is merged with it at link time; a caller's value could
/// not point here anyway (it is never handed out).
static MARKER: [u8; ABSENT_MARKER_LEN] = *b"\0strata:absent\0\x7f";

/// The marker value.
pub(crate) fn marker() -> Bytes {
    Bytes::from_static(&MARKER)
}

/// Whether `v` is the marker.
#[inline]
pub(crate) fn is_absent(v: &Bytes) -> bool {
    std::ptr::eq(v.as_ptr(), MARKER.as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_marker_is_absent() {
        assert!(is_absent(&marker()));
        assert!(is_absent(&marker().clone()));
        assert!(!is_absent(&Bytes::copy_from_slice(&MARKER)), "equal bytes elsewhere are a value");
        assert!(!is_absent(&Bytes::new()));
        assert!(!is_absent(&Bytes::from_static(b"")));
        assert_eq!(marker().len(), ABSENT_MARKER_LEN);
    }
}
