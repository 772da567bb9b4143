//! Rate limiting per token subject, or per client IP without a token: a token bucket per key.

use std::num::NonZeroU32;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::error::ApiError;
use crate::metrics::Metrics;

/// Token-bucket limits per key (a token's subject, or `ip:<addr>` without a token).
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<String>,
}

impl RateLimit {
    /// `per_minute` requests a minute on average, bursts up to `burst`; `None` when off.
    pub fn new(per_minute: u32, burst: u32) -> Option<Self> {
        let per_minute = NonZeroU32::new(per_minute)?;
        let burst = NonZeroU32::new(burst.max(1))?;
        Some(RateLimit {
            limiter: governor::RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
        })
    }

    /// `Some(429)` when `key` is over its limit.
    pub fn check(&self, key: &str, metrics: &Metrics) -> Option<Response> {
        let not_until = self.limiter.check_key(&key.to_owned()).err()?;
        metrics.count_rate_limited();
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut res = super::error_response(
            StatusCode::TOO_MANY_REQUESTS,
            &ApiError::RateLimited {
                retry_after_secs: secs,
            },
        );
        if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        Some(res)
    }
}
