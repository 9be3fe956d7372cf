//! Operations with rules, called by the command line, the pages and the protocol
//! endpoints alike: each rule is written once, here.

pub mod attempts;
pub mod backchannel;
pub mod sessions;
pub mod users;
