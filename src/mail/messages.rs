//! What Gatehouse mails, as multipart text + HTML from one pair of templates.

use askama::Template;

/// A rendered message.
pub struct Content {
    /// What kind of message it is, for logs and the audit log.
    pub kind: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// A button in the HTML part, a bare link in the text part.
pub struct Action {
    pub label: &'static str,
    pub link: String,
}

/// The words of a message; both parts are rendered from it.
struct Body {
    heading: String,
    paragraphs: Vec<String>,
    action: Option<Action>,
    /// Why the person got this mail, and what to do if it was not them.
    footer: String,
}

#[derive(Template)]
#[template(path = "mail/message.txt")]
struct Text<'a> {
    body: &'a Body,
}

#[derive(Template)]
#[template(path = "mail/message.html")]
struct Html<'a> {
    body: &'a Body,
    subject: &'a str,
}

fn render(kind: &'static str, subject: String, body: Body) -> Content {
    // The templates have no fallible parts: a failure here is a bug in them.
    let text = Text { body: &body }
        .render()
        .unwrap_or_else(|e| format!("(message could not be rendered: {e})"));
    let html = Html {
        body: &body,
        subject: &subject,
    }
    .render()
    .unwrap_or_else(|e| format!("(message could not be rendered: {e})"));
    Content {
        kind,
        subject,
        text,
        html,
    }
}

const PRODUCT: &str = "Gatehouse";

pub fn verify_email(username: &str, link: String, hours: i64) -> Content {
    render(
        "verify_email",
        format!("Confirm your email address for {PRODUCT}"),
        Body {
            heading: "Confirm your email address".into(),
            paragraphs: vec![
                format!("Hello {username},"),
                format!(
                    "please confirm that this is the email address of your {PRODUCT} account. \
                     The link works once, for {hours} hours."
                ),
            ],
            action: Some(Action {
                label: "Confirm my address",
                link,
            }),
            footer: "If you did not ask for this, ignore this message: nothing changes.".into(),
        },
    )
}

pub fn reset_password(username: &str, link: String, minutes: i64) -> Content {
    render(
        "reset_password",
        format!("Reset your {PRODUCT} password"),
        Body {
            heading: "Reset your password".into(),
            paragraphs: vec![
                format!("Hello {username},"),
                format!(
                    "someone (we hope you) asked to reset the password of your {PRODUCT} \
                     account. The link works once, for {minutes} minutes."
                ),
            ],
            action: Some(Action {
                label: "Choose a new password",
                link,
            }),
            footer: "If you did not ask for this, ignore this message: your password stays \
                     as it is."
                .into(),
        },
    )
}

pub fn invitation(username: &str, link: String, days: i64) -> Content {
    render(
        "invitation",
        format!("You are invited to {PRODUCT}"),
        Body {
            heading: format!("Welcome to {PRODUCT}"),
            paragraphs: vec![
                format!("Hello {username},"),
                format!(
                    "an account was made for you. Choose its password to start using it. \
                     The link works once, for {days} days."
                ),
            ],
            action: Some(Action {
                label: "Choose my password",
                link,
            }),
            footer: "If you did not expect this, ignore this message: the account stays \
                     unusable."
                .into(),
        },
    )
}

/// A change to how the account signs in ("A passkey was added").
pub fn security_notice(username: &str, change: &str) -> Content {
    render(
        "security_notice",
        format!("{change} · {PRODUCT}"),
        Body {
            heading: change.to_string(),
            paragraphs: vec![
                format!("Hello {username},"),
                format!(
                    "this changed how your {PRODUCT} account signs in: {}.",
                    change.to_lowercase()
                ),
            ],
            action: None,
            footer: "If this was not you, reset your password now and tell your \
                     administrator."
                .into(),
        },
    )
}

pub fn signup_confirm(username: &str, link: String, hours: i64) -> Content {
    render(
        "signup_confirm",
        format!("Confirm your address to create your {PRODUCT} account"),
        Body {
            heading: "Confirm your email address".into(),
            paragraphs: vec![
                format!("Hello {username},"),
                format!(
                    "confirm this address and your {PRODUCT} account is created. The link \
                     works once, for {hours} hours."
                ),
            ],
            action: Some(Action {
                label: "Create my account",
                link,
            }),
            footer: "If you did not sign up, ignore this message: no account is created.".into(),
        },
    )
}

pub fn signup_existing(username: &str, forgot: String) -> Content {
    render(
        "signup_existing",
        format!("You already have a {PRODUCT} account"),
        Body {
            heading: "You already have an account".into(),
            paragraphs: vec![
                format!(
                    "Someone (we hope you) tried to create a {PRODUCT} account with this \
                     address. It already belongs to the account {username}."
                ),
                "Forgot its password? Reset it here:".into(),
            ],
            action: Some(Action {
                label: "Reset my password",
                link: forgot,
            }),
            footer: "If this was not you, ignore this message: nothing changed.".into(),
        },
    )
}

pub fn password_changed(username: &str, how: &str) -> Content {
    render(
        "password_changed",
        format!("Your {PRODUCT} password was changed"),
        Body {
            heading: "Your password was changed".into(),
            paragraphs: vec![
                format!("Hello {username},"),
                format!(
                    "the password of your {PRODUCT} account was changed {how}. Other \
                     browsers that were signed in have been signed out."
                ),
            ],
            action: None,
            footer: "If this was not you, reset your password now and tell your \
                     administrator."
                .into(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parts_carry_the_link_and_html_is_escaped() {
        let content = reset_password("<b>ann</b>", "https://id.example/x?token=abc".into(), 15);
        assert!(content.text.contains("https://id.example/x?token=abc"));
        assert!(content
            .html
            .contains("href=\"https://id.example/x?token=abc\""));
        assert!(
            content.text.contains("<b>ann</b>"),
            "plain text is not escaped"
        );
        assert!(
            !content.html.contains("<b>ann"),
            "HTML escapes what it shows"
        );
        assert!(content.html.contains("ann&"));
        assert!(content.html.contains("15 minutes"));
    }
}
