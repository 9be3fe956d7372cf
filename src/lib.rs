//! Gatehouse: an OAuth 2.0 / OpenID Connect identity provider.

pub mod admin;
pub mod allocator;
pub mod app;
pub mod auth;
pub mod auth_method;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod domain;
pub mod error;
pub mod grant_type;
pub mod housekeeping;
pub mod keys;
pub mod mail;
pub mod observability;
pub mod oidc;
pub mod redirect_uri;
pub mod scope;
pub mod secrets;
pub mod signin;
pub mod state;
pub mod store;
pub mod ui;
pub mod web;
