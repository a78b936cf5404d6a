//! [`Session`]: one loaded trace and the runs over it. Plain Rust, tested
//! natively; [`crate::bindings`] exposes it to JavaScript.

use crate::Progress;
use crate::error::InspectError;
use crate::loaded::{LoadSummary, LoadedTrace};

/// The inspector's state.
#[derive(Debug, Default)]
pub struct Session {
    trace: Option<LoadedTrace>,
}

impl Session {
    /// Loads a trace (see [`LoadedTrace::read`]), replacing the previous one.
    ///
    /// # Errors
    /// As [`LoadedTrace::read`]; the previous trace is kept then.
    pub fn load(
        &mut self,
        bytes: &[u8],
        name: &str,
        format: Option<&str>,
        progress: &mut Progress<'_>,
    ) -> Result<&LoadSummary, InspectError> {
        let trace = LoadedTrace::read(bytes, name, format, progress)?;
        Ok(&self.trace.insert(trace).summary)
    }

    /// The loaded trace.
    ///
    /// # Errors
    /// [`InspectError::NoTrace`].
    pub fn trace(&self) -> Result<&LoadedTrace, InspectError> {
        self.trace.as_ref().ok_or(InspectError::NoTrace)
    }
}
