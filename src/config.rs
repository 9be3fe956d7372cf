//! Typed configuration: defaults < optional `gatehouse.toml` < `GATEHOUSE_*` environment.

use std::net::SocketAddr;
use std::path::Path;

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use url::Url;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    /// The issuer identifier, exactly as it appears in `iss` and discovery.
    pub issuer: String,
    /// Socket address the HTTP server binds to.
    pub listen: String,
    /// SeaORM database URL (`sqlite://…` or `postgres://…`).
    pub database_url: String,
    /// The PostgreSQL password, given apart from the URL: any characters, encoded
    /// into the URL here (so compose files and secret stores need not encode it).
    #[serde(skip_serializing)]
    pub database_password: Option<String>,
    /// Lifetime of access tokens, seconds.
    pub access_token_ttl: u64,
    /// Lifetime of ID tokens, seconds.
    pub id_token_ttl: u64,
    /// Lifetime of authorization codes, seconds (RFC 6749 §4.1.2: at most 10 min; we allow ≤ 60 s).
    pub authorization_code_ttl: u64,
    /// How long a started authorization request may wait for login and consent, seconds.
    pub authorization_request_ttl: u64,
    /// Lifetime of a browser session, seconds.
    pub session_ttl: u64,
    /// Absolute lifetime of a grant (token family), seconds.
    pub grant_ttl: u64,
    /// A refresh token unused this long expires (idle lifetime), seconds.
    pub refresh_token_idle_ttl: u64,
    /// Seconds during which a rotated refresh token presented again by the same client
    /// gets the same successor instead of revoking the grant (0 turns it off).
    pub refresh_grace_period: u64,
    /// Password hashes computed at once; more wait (a login flood cannot exhaust memory).
    /// Default: the number of cores, at most 4 (argon2 is CPU-bound: more hashes at once
    /// than cores only add 19 MiB each and latency).
    pub password_hash_concurrency: usize,
    /// `optional` or `required`: whether every user must use a second factor
    /// (a user's own policy, set with `gatehouse user set-mfa`, wins).
    pub mfa_policy: crate::auth::mfa::MfaPolicy,
    /// Members of this group may obtain the admin API's scopes in a browser sign-in
    /// (through a client registered for them).
    pub admin_group: String,
    /// The master key sealing private keys at rest (base64 of 32 bytes, or 64 hex digits).
    /// Without it, `master_key_file` is used (created on first start).
    #[serde(skip_serializing)]
    pub master_key: Option<String>,
    /// Where the master key lives when GATEHOUSE_MASTER_KEY is not set.
    pub master_key_file: String,
    /// How long a signing key signs before its successor takes over, seconds.
    pub key_rotation_period: u64,
    /// How long a new key is published in the JWKS before it signs anything, seconds.
    pub key_prepublish_lead: u64,
    /// How long a retired key stays published after its last token expired, seconds.
    pub key_retire_margin: u64,
    /// How often each node re-reads the keys and runs due transitions, seconds.
    pub key_reload_interval: u64,
    /// How long a node keeps a client registration it read for client
    /// authentication, seconds (0: read it on every request).
    pub client_cache_ttl: u64,
    /// How long a client's previous secret keeps working after its secret was
    /// rotated, seconds (0: not at all).
    pub client_secret_overlap: u64,
    /// Log lines as plain text or as JSON objects.
    pub log_format: crate::observability::logging::LogFormat,
    /// Reverse proxies whose `Forwarded` / `X-Forwarded-For` are believed: IPs and
    /// CIDRs, comma-separated (empty: none; the TCP peer is the client).
    pub trusted_proxies: String,
    /// Failures one account may have before its sign-ins are delayed.
    pub throttle_account_attempts: u64,
    /// Failures one client address may have before its attempts are delayed.
    pub throttle_ip_attempts: u64,
    /// Failures one known device may have on its account before it is delayed.
    pub throttle_device_attempts: u64,
    /// The longest delay a run of failures earns, seconds.
    pub throttle_max_lock: u64,
    /// Failures older than this (since the last one) are forgotten, seconds.
    pub throttle_window: u64,
    /// How long a browser stays a known device of an account after a sign-in, seconds.
    pub known_device_ttl: u64,
    /// Time a client has to send a request's headers, and the longest a kept-alive
    /// connection may sit idle before its next request, seconds.
    pub http_header_timeout: u64,
    /// Time a client has to send a request's body, seconds.
    pub http_body_timeout: u64,
    /// The largest request body accepted on any route, bytes.
    pub http_max_body_bytes: usize,
    /// The largest request head (request line and headers), bytes (at least 8192).
    pub http_max_header_bytes: usize,
    /// Connections served at once; more wait in the listen queue.
    pub http_max_connections: usize,
    /// A separate address for /metrics; when set, the public port does not serve it.
    pub metrics_listen: Option<String>,
    /// The SMTP server, in lettre's URL form (`smtp://host:25`,
    /// `smtp://host:587?tls=required`, `smtps://host:465`, credentials in the URL
    /// or below). Unset: no mail, and nothing that needs mail is offered.
    #[serde(skip_serializing)]
    pub smtp_url: Option<String>,
    /// SMTP credentials given apart from the URL.
    pub smtp_username: Option<String>,
    #[serde(skip_serializing)]
    pub smtp_password: Option<String>,
    /// The From of every message (`Gatehouse <id@example.com>`); required with SMTP.
    pub mail_from: Option<String>,
    /// Who may create an account: `off` (administrators only, the default),
    /// `invite` (the same: accounts come from administrators' invitations), `open`
    /// (anyone, with "Create an account" on the login page; needs mail).
    pub registration: Registration,
    /// With `open`: the email domains sign-up accepts, comma-separated (empty: any).
    pub registration_domains: String,
}

/// GATEHOUSE_REGISTRATION.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Registration {
    #[default]
    Off,
    Invite,
    Open,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            issuer: "http://localhost:8080".into(),
            listen: "127.0.0.1:8080".into(),
            database_url: "sqlite://gatehouse.db?mode=rwc".into(),
            database_password: None,
            access_token_ttl: 600,
            id_token_ttl: 600,
            authorization_code_ttl: 60,
            authorization_request_ttl: 1800,
            session_ttl: 8 * 3600,
            grant_ttl: 30 * 24 * 3600,
            refresh_token_idle_ttl: 14 * 24 * 3600,
            refresh_grace_period: 5,
            password_hash_concurrency: std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(4),
            mfa_policy: crate::auth::mfa::MfaPolicy::Optional,
            admin_group: "admins".into(),
            master_key: None,
            master_key_file: "gatehouse.key".into(),
            key_rotation_period: 30 * 24 * 3600,
            key_prepublish_lead: 24 * 3600,
            key_retire_margin: 3600,
            key_reload_interval: 30,
            client_cache_ttl: 5,
            client_secret_overlap: 0,
            log_format: Default::default(),
            trusted_proxies: String::new(),
            throttle_account_attempts: 3,
            throttle_ip_attempts: 20,
            throttle_device_attempts: 5,
            throttle_max_lock: 15 * 60,
            throttle_window: 3600,
            known_device_ttl: 180 * 24 * 3600,
            http_header_timeout: 10,
            http_body_timeout: 10,
            http_max_body_bytes: 64 * 1024,
            http_max_header_bytes: 16 * 1024,
            http_max_connections: 1024,
            metrics_listen: None,
            smtp_url: None,
            smtp_username: None,
            smtp_password: None,
            mail_from: None,
            registration: Registration::Off,
            registration_domains: String::new(),
        }
    }
}

/// A configuration problem, phrased as the one line the operator sees.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {setting}: {reason}")]
pub struct ConfigError {
    pub setting: String,
    pub reason: String,
}

fn invalid(setting: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_string(),
        reason: reason.into(),
    }
}

impl Config {
    /// Loads the layered configuration and validates it.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            if !path.exists() {
                return Err(invalid(
                    "--config",
                    format!("{} does not exist", path.display()),
                ));
            }
            figment = figment.merge(Toml::file(path));
        }
        // Secrets are taken from the environment as they are: figment would read
        // "12345" as a number and "[x]" as a list.
        const VERBATIM: [&str; 3] = ["DATABASE_PASSWORD", "MASTER_KEY", "SMTP_PASSWORD"];
        figment = figment.merge(Env::prefixed("GATEHOUSE_").ignore(&[
            "TEST_DATABASE_URL",
            VERBATIM[0],
            VERBATIM[1],
            VERBATIM[2],
        ]));
        if let Some(path) = file {
            reject_unknown_file_keys(path)?;
        }
        reject_unknown_variables(std::env::vars().map(|(k, _)| k))?;
        let mut config: Config = figment.extract().map_err(describe_error)?;
        let verbatim = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if let Some(password) = verbatim("GATEHOUSE_DATABASE_PASSWORD") {
            config.database_password = Some(password);
        }
        if let Some(key) = verbatim("GATEHOUSE_MASTER_KEY") {
            config.master_key = Some(key);
        }
        if let Some(password) = verbatim("GATEHOUSE_SMTP_PASSWORD") {
            config.smtp_password = Some(password);
        }
        config.validate()?;
        Ok(config)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_issuer(&self.issuer)?;
        self.listen_addr()?;
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return Err(invalid(
                "GATEHOUSE_DATABASE_URL",
                "must start with sqlite: or postgres://",
            ));
        }
        for (name, value) in [
            ("GATEHOUSE_ACCESS_TOKEN_TTL", self.access_token_ttl),
            ("GATEHOUSE_ID_TOKEN_TTL", self.id_token_ttl),
            (
                "GATEHOUSE_AUTHORIZATION_REQUEST_TTL",
                self.authorization_request_ttl,
            ),
            ("GATEHOUSE_SESSION_TTL", self.session_ttl),
            ("GATEHOUSE_GRANT_TTL", self.grant_ttl),
            (
                "GATEHOUSE_REFRESH_TOKEN_IDLE_TTL",
                self.refresh_token_idle_ttl,
            ),
        ] {
            if value == 0 {
                return Err(invalid(name, "must be greater than 0 seconds"));
            }
        }
        if !(1..=60).contains(&self.authorization_code_ttl) {
            return Err(invalid(
                "GATEHOUSE_AUTHORIZATION_CODE_TTL",
                "must be between 1 and 60 seconds",
            ));
        }
        if self.refresh_grace_period > 60 {
            return Err(invalid(
                "GATEHOUSE_REFRESH_GRACE_PERIOD",
                "must be at most 60 seconds (0 turns it off)",
            ));
        }
        if let Some(key) = &self.master_key {
            if crate::keys::master::MasterKey::parse(key).is_none() {
                return Err(invalid(
                    "GATEHOUSE_MASTER_KEY",
                    "must be 32 bytes in base64 or 64 hex digits",
                ));
            }
        }
        // The JWKS is cached for up to JWKS_MAX_AGE: a new key must be published longer.
        if self.key_prepublish_lead < 2 * crate::oidc::jwks::JWKS_MAX_AGE {
            return Err(invalid(
                "GATEHOUSE_KEY_PREPUBLISH_LEAD",
                format!(
                    "must be at least {} seconds (twice the JWKS cache lifetime)",
                    2 * crate::oidc::jwks::JWKS_MAX_AGE
                ),
            ));
        }
        if self.key_rotation_period <= self.key_prepublish_lead {
            return Err(invalid(
                "GATEHOUSE_KEY_ROTATION_PERIOD",
                "must be longer than GATEHOUSE_KEY_PREPUBLISH_LEAD",
            ));
        }
        if !(1..=300).contains(&self.key_reload_interval) {
            return Err(invalid(
                "GATEHOUSE_KEY_RELOAD_INTERVAL",
                "must be between 1 and 300 seconds",
            ));
        }
        if self.client_cache_ttl > 300 {
            return Err(invalid(
                "GATEHOUSE_CLIENT_CACHE_TTL",
                "must be between 0 and 300 seconds",
            ));
        }
        if crate::domain::groups::fold_name(&self.admin_group)
            .ok()
            .as_deref()
            != Some(self.admin_group.as_str())
        {
            return Err(invalid(
                "GATEHOUSE_ADMIN_GROUP",
                "must be a group name: 1 to 64 of a-z 0-9 - _ . :",
            ));
        }
        if self.client_secret_overlap > 30 * 86400 {
            return Err(invalid(
                "GATEHOUSE_CLIENT_SECRET_OVERLAP",
                "must be between 0 and 2592000 seconds (30 days)",
            ));
        }
        self.trusted_proxy_list()?;
        self.database_connect_url()?;
        crate::mail::Settings::from_config(self)?;
        self.registration_domain_list()?;
        self.metrics_addr()?;
        for (name, value) in [
            ("GATEHOUSE_THROTTLE_MAX_LOCK", self.throttle_max_lock),
            ("GATEHOUSE_THROTTLE_WINDOW", self.throttle_window),
            ("GATEHOUSE_KNOWN_DEVICE_TTL", self.known_device_ttl),
            ("GATEHOUSE_HTTP_HEADER_TIMEOUT", self.http_header_timeout),
            ("GATEHOUSE_HTTP_BODY_TIMEOUT", self.http_body_timeout),
        ] {
            if value == 0 {
                return Err(invalid(name, "must be greater than 0 seconds"));
            }
        }
        // hyper's read buffer holds the request head; it cannot be smaller.
        if self.http_max_header_bytes < 8192 {
            return Err(invalid(
                "GATEHOUSE_HTTP_MAX_HEADER_BYTES",
                "must be at least 8192 bytes",
            ));
        }
        if self.http_max_body_bytes < 1024 {
            return Err(invalid(
                "GATEHOUSE_HTTP_MAX_BODY_BYTES",
                "must be at least 1024 bytes",
            ));
        }
        if self.http_max_connections == 0 {
            return Err(invalid(
                "GATEHOUSE_HTTP_MAX_CONNECTIONS",
                "must be at least 1",
            ));
        }
        if self.password_hash_concurrency == 0 {
            return Err(invalid(
                "GATEHOUSE_PASSWORD_HASH_CONCURRENCY",
                "must be at least 1",
            ));
        }
        Ok(())
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| {
            invalid(
                "GATEHOUSE_LISTEN",
                format!("'{}' is not host:port", self.listen),
            )
        })
    }

    /// The URL to connect with: GATEHOUSE_DATABASE_URL with GATEHOUSE_DATABASE_PASSWORD
    /// (when set) put in as the URL's password, percent-encoded (RFC 3986 §3.2.1).
    pub fn database_connect_url(&self) -> Result<String, ConfigError> {
        let Some(password) = self.database_password.as_deref().filter(|p| !p.is_empty()) else {
            return Ok(self.database_url.clone());
        };
        let name = "GATEHOUSE_DATABASE_PASSWORD";
        let mut url = Url::parse(&self.database_url)
            .ok()
            .filter(|u| u.scheme().starts_with("postgres"))
            .ok_or_else(|| invalid(name, "is only for a postgres:// GATEHOUSE_DATABASE_URL"))?;
        // url leaves '%' as it is (it takes it for an escape): encode every byte first.
        let encoded =
            percent_encoding::utf8_percent_encode(password, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        url.set_password(Some(&encoded))
            .map_err(|()| invalid(name, "cannot be set on this URL"))?;
        Ok(url.to_string())
    }

    /// GATEHOUSE_METRICS_LISTEN, when set.
    pub fn metrics_addr(&self) -> Result<Option<SocketAddr>, ConfigError> {
        match self.metrics_listen.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(addr) => addr.parse().map(Some).map_err(|_| {
                invalid(
                    "GATEHOUSE_METRICS_LISTEN",
                    format!("'{addr}' is not host:port"),
                )
            }),
        }
    }

    /// GATEHOUSE_TRUSTED_PROXIES parsed: a lone address is a /32 (or /128) network.
    /// GATEHOUSE_REGISTRATION_DOMAINS, folded to lower case; empty: any domain.
    pub fn registration_domain_list(&self) -> Result<Vec<String>, ConfigError> {
        self.registration_domains
            .split(',')
            .map(|d| d.trim().trim_start_matches('@').to_lowercase())
            .filter(|d| !d.is_empty())
            .map(|d| {
                if d.contains('.') && !d.contains(char::is_whitespace) && !d.contains('@') {
                    Ok(d)
                } else {
                    Err(invalid(
                        "GATEHOUSE_REGISTRATION_DOMAINS",
                        format!("'{d}' is not a domain (e.g. example.com)"),
                    ))
                }
            })
            .collect()
    }

    pub fn trusted_proxy_list(&self) -> Result<Vec<ipnet::IpNet>, ConfigError> {
        self.trusted_proxies
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|entry| {
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| {
                        invalid(
                            "GATEHOUSE_TRUSTED_PROXIES",
                            format!("'{entry}' is not an IP address or CIDR (e.g. 10.0.0.0/8)"),
                        )
                    })
            })
            .collect()
    }

    /// The throttle's budgets and delays.
    pub fn throttle_policy(&self) -> crate::auth::throttle::Policy {
        let clamp = |v: u64| v.min(i64::MAX as u64) as i64;
        crate::auth::throttle::Policy {
            account_attempts: clamp(self.throttle_account_attempts),
            ip_attempts: clamp(self.throttle_ip_attempts),
            device_attempts: clamp(self.throttle_device_attempts),
            max_lock: clamp(self.throttle_max_lock),
            window: clamp(self.throttle_window),
        }
    }

    /// Signing-key lifecycle timings.
    pub fn key_policy(&self) -> crate::keys::lifecycle::Policy {
        crate::keys::lifecycle::Policy {
            rotation_period: self.key_rotation_period as i64,
            prepublish_lead: self.key_prepublish_lead as i64,
            // A retired key verifies every token it signed until the last one expires.
            retire_after: self.access_token_ttl.max(self.id_token_ttl) as i64
                + self.key_retire_margin as i64,
        }
    }

    /// True when cookies must carry `Secure` (the issuer is served over https).
    pub fn secure_cookies(&self) -> bool {
        self.issuer.starts_with("https://")
    }
}

/// Every setting's name in lower case (the TOML key; GATEHOUSE_ + upper case is
/// the variable).
fn setting_names() -> Vec<String> {
    let mut names: Vec<String> = match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    // Secrets are never serialized, so they are not among the keys above.
    names.extend(
        [
            "master_key",
            "database_password",
            "smtp_url",
            "smtp_password",
        ]
        .map(String::from),
    );
    names
}

/// A GATEHOUSE_* variable that names no setting is a typo: say so rather than
/// run with the default the operator meant to change.
fn reject_unknown_variables(names: impl Iterator<Item = String>) -> Result<(), ConfigError> {
    let known = setting_names();
    for name in names {
        let Some(key) = name.strip_prefix("GATEHOUSE_") else {
            continue;
        };
        // The test suite's own variable.
        if key == "TEST_DATABASE_URL" {
            continue;
        }
        if !known.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            return Err(invalid(
                &name,
                "is not a Gatehouse setting (see the README's list)",
            ));
        }
    }
    Ok(())
}

fn reject_unknown_file_keys(path: &Path) -> Result<(), ConfigError> {
    use figment::Provider;
    let data = Toml::file(path).data().map_err(|e| {
        invalid(
            "--config",
            format!("{} is not valid TOML: {e}", path.display()),
        )
    })?;
    let known = setting_names();
    for key in data.values().flat_map(|dict| dict.keys()) {
        if !known.iter().any(|k| k == key) {
            return Err(invalid(
                "--config",
                format!("{}: `{key}` is not a Gatehouse setting", path.display()),
            ));
        }
    }
    Ok(())
}

/// What a setting holds, in words.
fn expected(key: &str) -> &'static str {
    match key {
        "listen" | "metrics_listen" => "an address as host:port",
        "mfa_policy" => "optional or required",
        "log_format" => "plain or json",
        k if k.ends_with("_bytes") => "a number of bytes",
        k if k.ends_with("_attempts")
            || k.ends_with("_connections")
            || k.ends_with("_concurrency") =>
        {
            "a whole number"
        }
        k if k.ends_with("_ttl")
            || k.ends_with("_timeout")
            || k.ends_with("_period")
            || k.ends_with("_lead")
            || k.ends_with("_margin")
            || k.ends_with("_interval")
            || k.ends_with("_lock")
            || k.ends_with("_window") =>
        {
            "a whole number of seconds"
        }
        _ => "text",
    }
}

/// A figment error in plain words: the setting, where the value came from, what
/// was given and what is expected.
fn describe_error(error: figment::Error) -> ConfigError {
    use figment::error::{Actual, Kind};
    let Some(key) = error.path.first().cloned() else {
        return invalid("configuration", error.kind.to_string());
    };
    let setting = format!("GATEHOUSE_{}", key.to_uppercase());
    let from = match error.metadata.as_ref().and_then(|m| m.source.as_ref()) {
        Some(figment::Source::File(path)) => format!(" (from {}, key `{key}`)", path.display()),
        _ => " (from the environment)".to_string(),
    };
    let given = |actual: &Actual| match actual {
        Actual::Str(s) => format!("'{s}'"),
        Actual::Unsigned(n) => n.to_string(),
        Actual::Signed(n) => n.to_string(),
        Actual::Float(n) => n.to_string(),
        Actual::Bool(b) => b.to_string(),
        other => format!("a {other}"),
    };
    let reason = match &error.kind {
        Kind::InvalidType(actual, _) | Kind::InvalidValue(actual, _) => {
            format!("{} is not {}{from}", given(actual), expected(&key))
        }
        Kind::UnknownVariant(actual, _) => format!("'{actual}' is not {}{from}", expected(&key)),
        _ => format!("must be {}{from}", expected(&key)),
    };
    invalid(&setting, reason)
}

/// OIDC Discovery §3: the issuer is an https URL (http allowed here for local use)
/// with no query or fragment; a trailing slash would break `iss` comparisons.
fn validate_issuer(issuer: &str) -> Result<(), ConfigError> {
    let name = "GATEHOUSE_ISSUER";
    let url =
        Url::parse(issuer).map_err(|e| invalid(name, format!("'{issuer}' is not a URL: {e}")))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(invalid(name, "must be an https:// (or http://) URL"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid(name, "must not have a query or fragment"));
    }
    if issuer.ends_with('/') {
        return Err(invalid(name, "must not end with '/'"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn issuer_rules() {
        assert!(validate_issuer("https://id.example.com").is_ok());
        assert!(validate_issuer("https://id.example.com/tenant").is_ok());
        assert!(validate_issuer("https://id.example.com/").is_err());
        assert!(validate_issuer("https://id.example.com?x=1").is_err());
        assert!(validate_issuer("ftp://id.example.com").is_err());
        assert!(validate_issuer("not a url").is_err());
    }

    #[test]
    fn a_separate_database_password_is_encoded_into_the_url() {
        let config = Config {
            database_url: "postgres://gatehouse@postgres:5432/gatehouse".into(),
            database_password: Some("p@ss:w/rd?#%".into()),
            ..Config::default()
        };
        let url = config.database_connect_url().unwrap();
        assert_eq!(
            url,
            "postgres://gatehouse:p%40ss%3Aw%2Frd%3F%23%25@postgres:5432/gatehouse"
        );
        let parsed = Url::parse(&url).unwrap();
        assert_eq!(parsed.host_str(), Some("postgres"));
        let sqlite = Config {
            database_password: Some("x".into()),
            ..Config::default()
        };
        assert_eq!(
            sqlite.validate().unwrap_err().setting,
            "GATEHOUSE_DATABASE_PASSWORD"
        );
    }

    #[test]
    fn unknown_variables_are_named() {
        let ok = [
            "GATEHOUSE_ISSUER",
            "GATEHOUSE_MASTER_KEY",
            "PATH",
            "GATEHOUSE_TEST_DATABASE_URL",
        ];
        assert!(reject_unknown_variables(ok.iter().map(|s| s.to_string())).is_ok());
        // A misspelt issuer variable, spelt out at run time (it names no setting).
        let typo = format!("GATEHOUSE_{}", "ISSUR");
        let err = reject_unknown_variables([typo.clone()].into_iter()).unwrap_err();
        assert_eq!(err.setting, typo);
    }

    #[test]
    fn type_errors_in_plain_words() {
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Serialized::default("access_token_ttl", "ten"));
        let err = describe_error(figment.extract::<Config>().unwrap_err());
        assert_eq!(err.setting, "GATEHOUSE_ACCESS_TOKEN_TTL");
        assert!(
            err.reason
                .starts_with("'ten' is not a whole number of seconds"),
            "{}",
            err.reason
        );
        let figment = Figment::from(Serialized::defaults(Config::default()))
            .merge(Serialized::default("mfa_policy", "sometimes"));
        let err = describe_error(figment.extract::<Config>().unwrap_err());
        assert!(
            err.reason
                .starts_with("'sometimes' is not optional or required"),
            "{}",
            err.reason
        );
    }

    #[test]
    fn trusted_proxies_parse() {
        let config = Config {
            trusted_proxies: " 10.0.0.0/8, 192.0.2.7 ,::1".into(),
            ..Config::default()
        };
        let list = config.trusted_proxy_list().unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[1].to_string(), "192.0.2.7/32");
        let bad = Config {
            trusted_proxies: "10.0.0.0/33".into(),
            ..Config::default()
        };
        assert_eq!(
            bad.validate().unwrap_err().setting,
            "GATEHOUSE_TRUSTED_PROXIES"
        );
    }

    #[test]
    fn code_ttl_is_bounded() {
        let config = Config {
            authorization_code_ttl: 61,
            ..Config::default()
        };
        let err = config.validate().unwrap_err();
        assert_eq!(err.setting, "GATEHOUSE_AUTHORIZATION_CODE_TTL");
    }
}
