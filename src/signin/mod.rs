//! The interaction between the authorization request and the code: sign-in, the
//! second factor, consent. One pure decision (`next`) says what comes next; the
//! pending request is bound to the browser that started it.

pub mod binding;
pub mod fresh;
pub mod interaction;
pub mod issue;
pub mod next;
