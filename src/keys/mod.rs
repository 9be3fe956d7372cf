//! Signing keys: lifecycle, the in-memory keyset, JWT signing/verification, and the
//! master key that seals private keys at rest.

pub mod generate;
pub mod jwt;
pub mod keyset;
pub mod lifecycle;
pub mod master;
pub mod rotation;

pub use keyset::{KeySet, Keys};

/// Seconds relying parties may cache the JWKS; well below the pre-publication lead,
/// so every cache holds a new key before it signs anything.
pub const JWKS_MAX_AGE: u64 = 300;
