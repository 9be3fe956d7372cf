//! Signing keys: the in-memory keyset, JWT signing/verification, key generation.

pub mod generate;
pub mod jwt;
pub mod keyset;

pub use keyset::{KeySet, Keys};
