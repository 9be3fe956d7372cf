//! What operators watch: health and readiness probes, Prometheus metrics, request
//! ids and the log format.

pub mod health;
pub mod logging;
pub mod metrics;
pub mod request_id;
