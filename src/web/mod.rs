//! HTTP plumbing shared by the endpoints: cookies, parameters, security headers.

pub mod client_ip;
pub mod cookies;
pub mod csrf;
pub mod deadline_body;
pub mod page;
pub mod params;
pub mod redirect;
pub mod security_headers;
pub mod user_agent;
