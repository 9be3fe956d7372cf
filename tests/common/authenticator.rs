//! A software WebAuthn (passkey) authenticator for HTTP-level integration tests.
//!
//! The test plays the browser: it takes the WebAuthn options JSON the server put in
//! the page ([`options_from_page`]), asks an [`Authenticator`] for the response a
//! browser would produce from `navigator.credentials.create()` / `.get()`
//! ([`Authenticator::register`], [`Authenticator::authenticate`]), and posts that
//! JSON back. Credentials are discoverable ES256 (P-256) keys with "none"
//! attestation, in the WebAuthn Level 2/3 formats
//! (<https://www.w3.org/TR/webauthn-2/>); binary values are base64url without
//! padding, as the server's webauthn-rs types expect.
//!
//! The authenticator reports whatever flags it is set to (UV, BE, BS) and does not
//! enforce the request's `userVerification`, so tests can probe the server's checks.
//! Cloning it copies the keys and counters: a clone used after the original has moved
//! on replays an older signature counter, like a cloned authenticator would.
#![allow(dead_code)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sha::sha256;
use openssl::sign::Signer;
use serde_json::{json, Value};

/// Authenticator data flags (WebAuthn §6.1).
const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_BE: u8 = 0x08;
const FLAG_BS: u8 = 0x10;
const FLAG_AT: u8 = 0x40;

/// COSE algorithm identifier of ES256.
const ES256: i64 = -7;

/// Length of the credential ids this authenticator makes.
const CREDENTIAL_ID_LEN: usize = 32;

/// One discoverable credential (a passkey) held by the authenticator.
#[derive(Clone)]
pub struct StoredCredential {
    pub id: Vec<u8>,
    pub rp_id: String,
    pub user_handle: Vec<u8>,
    pub user_name: String,
    pub key: PKey<Private>,
    pub counter: u32,
}

/// A software passkey authenticator (platform-like: transport "internal").
#[derive(Clone)]
pub struct Authenticator {
    /// Credentials in the order they were registered.
    pub credentials: Vec<StoredCredential>,
    /// Sets the UV flag (user verified). UP (user present) is always set.
    pub user_verified: bool,
    /// Sets the BE flag (backup eligible, i.e. a synced passkey).
    pub backup_eligible: bool,
    /// Sets the BS flag (backed up).
    pub backed_up: bool,
    /// How much each assertion advances a credential's signature counter; 0 keeps it
    /// at its value (0 for a new credential), as many passkey providers do.
    pub counter_step: u32,
    /// Whether assertions carry `userHandle` (a real passkey always sends it).
    pub send_user_handle: bool,
}

impl Default for Authenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl Authenticator {
    /// An authenticator with no credentials that verifies the user (UV set), is not
    /// backup eligible, and advances counters by 1.
    pub fn new() -> Self {
        Authenticator {
            credentials: Vec::new(),
            user_verified: true,
            backup_eligible: false,
            backed_up: false,
            counter_step: 1,
            send_user_handle: true,
        }
    }

    pub fn with_user_verified(mut self, on: bool) -> Self {
        self.user_verified = on;
        self
    }

    pub fn with_backup_eligible(mut self, on: bool) -> Self {
        self.backup_eligible = on;
        self
    }

    pub fn with_backed_up(mut self, on: bool) -> Self {
        self.backed_up = on;
        self
    }

    pub fn with_counter_step(mut self, step: u32) -> Self {
        self.counter_step = step;
        self
    }

    pub fn with_user_handle(mut self, on: bool) -> Self {
        self.send_user_handle = on;
        self
    }

    /// `navigator.credentials.create()`: `options` is the server's
    /// `CreationChallengeResponse` (`{"publicKey": {...}}`) or its inner object.
    /// Returns the `RegisterPublicKeyCredential` JSON to post back.
    ///
    /// Panics where a browser or authenticator would refuse (see [`Self::try_register`]).
    pub fn register(&mut self, options: &Value, origin: &str) -> Value {
        self.try_register(options, origin)
            .unwrap_or_else(|e| panic!("passkey registration refused: {e}"))
    }

    /// As [`Self::register`], with the refusal as an error instead of a panic: the
    /// rp id is not the origin's host or a registrable suffix of it, ES256 is not among
    /// `pubKeyCredParams`, or `excludeCredentials` names a credential held for this rp
    /// (the browser's InvalidStateError).
    pub fn try_register(&mut self, options: &Value, origin: &str) -> Result<Value, String> {
        let pk = inner(options, "publicKey");
        let host = origin_host(origin)?;
        let rp_id = match pk.pointer("/rp/id").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => host.clone(),
        };
        check_rp_id(&rp_id, &host)?;

        let challenge = pk
            .get("challenge")
            .and_then(Value::as_str)
            .ok_or("options have no publicKey.challenge string")?;
        let user_handle = b64_field(pk, "/user/id")?;
        let user_name = pk
            .pointer("/user/name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();

        let params = pk
            .get("pubKeyCredParams")
            .and_then(Value::as_array)
            .ok_or("options have no publicKey.pubKeyCredParams")?;
        let es256 = params.iter().any(|p| {
            p.get("alg").and_then(Value::as_i64) == Some(ES256)
                && p.get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("public-key")
                    == "public-key"
        });
        if !es256 {
            return Err(format!(
                "NotSupportedError: no ES256 (-7) in pubKeyCredParams {params:?}"
            ));
        }

        for excluded in descriptor_ids(pk.get("excludeCredentials"))? {
            if self
                .credentials
                .iter()
                .any(|c| c.rp_id == rp_id && c.id == excluded)
            {
                return Err(format!(
                    "InvalidStateError: excludeCredentials names credential {} held for rp {rp_id}",
                    URL_SAFE_NO_PAD.encode(&excluded)
                ));
            }
        }

        // A new key and credential. As the spec's authenticatorMakeCredential does for a
        // discoverable credential, one for the same rp and user handle replaces the old one.
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256 group");
        let ec_key = EcKey::generate(&group).expect("generate P-256 key");
        let mut ctx = BigNumContext::new().expect("bn ctx");
        let (mut x, mut y) = (BigNum::new().expect("bn"), BigNum::new().expect("bn"));
        ec_key
            .public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
            .expect("public key coordinates");
        let x = x.to_vec_padded(32).expect("x fits 32 bytes");
        let y = y.to_vec_padded(32).expect("y fits 32 bytes");
        let key = PKey::from_ec_key(ec_key).expect("pkey");

        let mut id = vec![0u8; CREDENTIAL_ID_LEN];
        openssl::rand::rand_bytes(&mut id).expect("random credential id");

        self.credentials
            .retain(|c| !(c.rp_id == rp_id && c.user_handle == user_handle));
        let counter = 0;
        self.credentials.push(StoredCredential {
            id: id.clone(),
            rp_id: rp_id.clone(),
            user_handle,
            user_name,
            key,
            counter,
        });

        // COSE_Key: {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}.
        let mut cose = Vec::new();
        cbor_map_header(&mut cose, 5);
        cbor_int(&mut cose, 1);
        cbor_int(&mut cose, 2);
        cbor_int(&mut cose, 3);
        cbor_int(&mut cose, ES256);
        cbor_int(&mut cose, -1);
        cbor_int(&mut cose, 1);
        cbor_int(&mut cose, -2);
        cbor_bytes(&mut cose, &x);
        cbor_int(&mut cose, -3);
        cbor_bytes(&mut cose, &y);

        let mut auth_data = self.auth_data_head(&rp_id, FLAG_AT, counter);
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID: none
        auth_data.extend_from_slice(&(id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&id);
        auth_data.extend_from_slice(&cose);

        // Attestation object: {"fmt": "none", "attStmt": {}, "authData": bytes}.
        let mut attestation = Vec::new();
        cbor_map_header(&mut attestation, 3);
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        cbor_map_header(&mut attestation, 0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);

        let client_data = client_data_json("webauthn.create", challenge, origin);
        let id_b64 = URL_SAFE_NO_PAD.encode(&id);
        Ok(json!({
            "id": id_b64,
            "rawId": id_b64,
            "type": "public-key",
            "response": {
                "attestationObject": URL_SAFE_NO_PAD.encode(&attestation),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data.as_bytes()),
                "transports": ["internal"],
            },
            "extensions": {},
        }))
    }

    /// `navigator.credentials.get()`: `options` is the server's
    /// `RequestChallengeResponse` (`{"publicKey": {...}, "mediation": ...}`) or its
    /// inner object. Uses the first held credential in a non-empty `allowCredentials`,
    /// else (discoverable sign-in) the most recently registered one for the rp.
    /// Returns the `PublicKeyCredential` JSON to post back.
    ///
    /// Panics where no credential fits (see [`Self::try_authenticate`]).
    pub fn authenticate(&mut self, options: &Value, origin: &str) -> Value {
        self.try_authenticate(options, origin)
            .unwrap_or_else(|e| panic!("passkey sign-in failed: {e}"))
    }

    /// As [`Self::authenticate`], with "no credential" (or a bad rp id) as an error.
    pub fn try_authenticate(&mut self, options: &Value, origin: &str) -> Result<Value, String> {
        let pk = inner(options, "publicKey");
        let host = origin_host(origin)?;
        let rp_id = match pk.get("rpId").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => host.clone(),
        };
        check_rp_id(&rp_id, &host)?;
        let challenge = pk
            .get("challenge")
            .and_then(Value::as_str)
            .ok_or("options have no publicKey.challenge string")?;

        let allowed = descriptor_ids(pk.get("allowCredentials"))?;
        let index = if allowed.is_empty() {
            self.credentials.iter().rposition(|c| c.rp_id == rp_id)
        } else {
            allowed.iter().find_map(|want| {
                self.credentials
                    .iter()
                    .position(|c| c.rp_id == rp_id && &c.id == want)
            })
        }
        .ok_or_else(|| {
            format!(
                "NotAllowedError: no credential for rp {rp_id} (allowCredentials: {:?})",
                allowed
                    .iter()
                    .map(|id| URL_SAFE_NO_PAD.encode(id))
                    .collect::<Vec<_>>()
            )
        })?;

        let step = self.counter_step;
        let cred = &mut self.credentials[index];
        cred.counter = cred.counter.wrapping_add(step);
        let (counter, id, user_handle, key) = (
            cred.counter,
            cred.id.clone(),
            cred.user_handle.clone(),
            cred.key.clone(),
        );

        let auth_data = self.auth_data_head(&rp_id, 0, counter);
        let client_data = client_data_json("webauthn.get", challenge, origin);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&sha256(client_data.as_bytes()));
        let mut signer = Signer::new(MessageDigest::sha256(), &key).expect("signer");
        let signature = signer.sign_oneshot_to_vec(&signed).expect("ECDSA sign"); // DER

        let id_b64 = URL_SAFE_NO_PAD.encode(&id);
        let user_handle = if self.send_user_handle {
            Value::String(URL_SAFE_NO_PAD.encode(&user_handle))
        } else {
            Value::Null
        };
        Ok(json!({
            "id": id_b64,
            "rawId": id_b64,
            "type": "public-key",
            "response": {
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data.as_bytes()),
                "signature": URL_SAFE_NO_PAD.encode(&signature),
                "userHandle": user_handle,
            },
            "extensions": {},
        }))
    }

    /// The ids (base64url) of the credentials held, oldest first.
    pub fn credential_ids(&self) -> Vec<String> {
        self.credentials
            .iter()
            .map(|c| URL_SAFE_NO_PAD.encode(&c.id))
            .collect()
    }

    /// The credential with this id (base64url), if held.
    pub fn credential(&self, credential_id: &str) -> Option<&StoredCredential> {
        let id = decode_id(credential_id);
        self.credentials.iter().find(|c| c.id == id)
    }

    /// Sets a credential's signature counter (the next assertion reports it plus
    /// `counter_step`). Panics if the credential is not held.
    pub fn set_counter(&mut self, credential_id: &str, counter: u32) {
        let id = decode_id(credential_id);
        let cred = self
            .credentials
            .iter_mut()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no credential {credential_id} held"));
        cred.counter = counter;
    }

    /// Deletes a credential (as a user removing a passkey); returns whether it was held.
    pub fn forget(&mut self, credential_id: &str) -> bool {
        let id = decode_id(credential_id);
        let before = self.credentials.len();
        self.credentials.retain(|c| c.id != id);
        self.credentials.len() != before
    }

    /// rpIdHash || flags || signCount, with UP and the configured UV/BE/BS flags.
    fn auth_data_head(&self, rp_id: &str, extra_flags: u8, counter: u32) -> Vec<u8> {
        let mut flags = FLAG_UP | extra_flags;
        if self.user_verified {
            flags |= FLAG_UV;
        }
        if self.backup_eligible {
            flags |= FLAG_BE;
        }
        if self.backed_up {
            flags |= FLAG_BS;
        }
        let mut data = sha256(rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend_from_slice(&counter.to_be_bytes());
        data
    }
}

/// The WebAuthn options JSON a page embeds as
/// `<script type="application/json" id="passkey-options">…</script>`.
///
/// Character references (`&quot;`, `&#34;`, `&amp;`, …) are decoded in case the
/// template escaped the JSON. Note a browser does *not* decode them inside a
/// `<script>` element, so a page whose options only parse after decoding is broken
/// for real browsers; use [`options_from_page_strict`] to catch that.
/// Panics if the element is missing or its text is not JSON.
pub fn options_from_page(html: &str) -> Value {
    let text = passkey_options_text(html);
    serde_json::from_str(text)
        .or_else(|_| serde_json::from_str(&html_unescape(text)))
        .unwrap_or_else(|e| panic!("passkey-options is not JSON ({e}): {text}"))
}

/// As [`options_from_page`], but parses the element's text exactly as a browser's
/// `JSON.parse(element.textContent)` would, without decoding character references.
pub fn options_from_page_strict(html: &str) -> Value {
    let text = passkey_options_text(html);
    serde_json::from_str(text).unwrap_or_else(|e| {
        panic!("passkey-options is not JSON as a browser reads it ({e}): {text}")
    })
}

/// The raw text of the `<script … id="passkey-options">` element.
fn passkey_options_text(html: &str) -> &str {
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(start) = lower[from..].find("<script").map(|i| i + from) {
        let tag_end = lower[start..]
            .find('>')
            .map(|i| i + start)
            .unwrap_or_else(|| panic!("unterminated <script> tag in page"));
        let tag = &lower[start..tag_end];
        let is_it = [
            "id=\"passkey-options\"",
            "id='passkey-options'",
            "id=passkey-options",
        ]
        .iter()
        .any(|a| tag.contains(a));
        if is_it {
            let body_end = lower[tag_end..]
                .find("</script")
                .map(|i| i + tag_end)
                .unwrap_or_else(|| panic!("passkey-options <script> is not closed"));
            return html[tag_end + 1..body_end].trim();
        }
        from = tag_end;
    }
    panic!("page has no <script id=\"passkey-options\"> element:\n{html}");
}

/// Decodes HTML character references: the named ones a template emits and any
/// numeric `&#NN;` / `&#xHH;`.
fn html_unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest.find(';').filter(|&semi| semi <= 10).and_then(|semi| {
            let name = &rest[1..semi];
            let c = match name {
                "quot" => Some('"'),
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, semi + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `value[key]` if present (the `publicKey` wrapper), else `value` itself.
fn inner<'a>(value: &'a Value, key: &str) -> &'a Value {
    value.get(key).unwrap_or(value)
}

/// The ids of a list of `PublicKeyCredentialDescriptor`s (absent or null: none).
fn descriptor_ids(list: Option<&Value>) -> Result<Vec<Vec<u8>>, String> {
    let Some(list) = list.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let list = list
        .as_array()
        .ok_or_else(|| format!("credential list is not an array: {list}"))?;
    list.iter()
        .map(|d| b64_field(d, "/id"))
        .collect::<Result<_, _>>()
}

/// Decodes the base64url string at a JSON pointer.
fn b64_field(value: &Value, pointer: &str) -> Result<Vec<u8>, String> {
    let s = value
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no string at {pointer} in {value}"))?;
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|e| format!("{pointer} is not base64url ({e}): {s}"))
}

fn decode_id(credential_id: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(credential_id.trim_end_matches('='))
        .unwrap_or_else(|e| panic!("credential id {credential_id} is not base64url: {e}"))
}

/// The host of an origin such as `http://localhost:8080` (lower-cased, no port).
fn origin_host(origin: &str) -> Result<String, String> {
    let (_, rest) = origin
        .split_once("://")
        .ok_or_else(|| format!("origin {origin} has no scheme"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Err(format!("origin {origin} has no host"));
    }
    Ok(host.to_ascii_lowercase())
}

/// A browser's check that the rp id is the origin's host or a parent domain of it
/// (without a public-suffix list: any parent label boundary is accepted).
fn check_rp_id(rp_id: &str, host: &str) -> Result<(), String> {
    let rp = rp_id.to_ascii_lowercase();
    if !rp.is_empty() && (host == rp || host.ends_with(&format!(".{rp}"))) {
        Ok(())
    } else {
        Err(format!(
            "SecurityError: rp id {rp_id:?} is not a registrable suffix of origin host {host:?}"
        ))
    }
}

/// `clientDataJSON`, members in the order the spec serialises them.
fn client_data_json(kind: &str, challenge: &str, origin: &str) -> String {
    format!(
        r#"{{"type":{},"challenge":{},"origin":{},"crossOrigin":false}}"#,
        Value::from(kind),
        Value::from(challenge),
        Value::from(origin)
    )
}

// Minimal CBOR (RFC 8949) encoding: the few major types the attestation object needs.

fn cbor_head(out: &mut Vec<u8>, major: u8, n: u64) {
    let major = major << 5;
    if n < 24 {
        out.push(major | n as u8);
    } else if n <= u8::MAX as u64 {
        out.extend_from_slice(&[major | 24, n as u8]);
    } else if n <= u16::MAX as u64 {
        out.push(major | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= u32::MAX as u64 {
        out.push(major | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(major | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn cbor_int(out: &mut Vec<u8>, v: i64) {
    if v >= 0 {
        cbor_head(out, 0, v as u64);
    } else {
        cbor_head(out, 1, (-1 - v) as u64);
    }
}

fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    cbor_head(out, 2, b.len() as u64);
    out.extend_from_slice(b);
}

fn cbor_text(out: &mut Vec<u8>, s: &str) {
    cbor_head(out, 3, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn cbor_map_header(out: &mut Vec<u8>, entries: u64) {
    cbor_head(out, 5, entries);
}
