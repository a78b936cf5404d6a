//! A whole cache from a [`CacheConfig`]: the L3 backend it names, the Redis
//! L2 if configured, the engine. This is how a service starts Strata with the
//! configuration the simulator's tuner wrote.

use std::sync::Arc;
use std::time::Duration;

use super::CachedStateBackend;
use crate::backend::{StateBackend, open_backend};
use crate::config::CacheConfig;
use crate::error::Result;

/// A cache over whichever backend the configuration names.
pub type DynCache = CachedStateBackend<Arc<dyn StateBackend>>;

/// How long `open` waits for the invalidation subscription before returning.
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(5);

impl CachedStateBackend<Arc<dyn StateBackend>> {
    /// Opens L3 (running its migration for PostgreSQL), connects L2 if
    /// configured, and starts the engine. Call inside a tokio runtime.
    ///
    /// # Errors
    /// An invalid configuration, or a tier that cannot be opened.
    pub async fn open(config: CacheConfig) -> Result<DynCache> {
        config.validate()?;
        let l3 = open_backend(&config.l3).await?;
        #[allow(unused_mut)]
        let mut builder = CachedStateBackend::builder(l3).config(config.clone());
        if let Some(l2) = &config.l2 {
            #[cfg(feature = "redis")]
            {
                let clock = Arc::new(crate::clock::SystemClock::new());
                let tier = crate::l2::RedisTier::connect(l2, clock).await?;
                builder = builder.l2(Arc::new(tier));
            }
            #[cfg(not(feature = "redis"))]
            {
                let _ = l2;
                return Err(crate::error::StateError::config("l2", "this build has no `redis` feature"));
            }
        }
        let cache = builder.build()?;
        if !cache.ready(SUBSCRIBE_WAIT).await {
            tracing::warn!("strata: L2 invalidation subscription not ready yet; retrying in the background");
        }
        Ok(cache)
    }
}
