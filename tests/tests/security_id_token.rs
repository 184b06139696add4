//! id_tokens that must be refused, each with a message that says why: a bad
//! signature, a key the provider never published, wrong `iss`/`aud`/`nonce`,
//! an expired token, `alg: none`, an HMAC token signed with the provider's
//! public key (algorithm confusion), and a user other than the connection's.
//!
//! Tokens are signed with the simulator's published test key (a real RS256
//! signature the real JWKS verifies), so each case differs from a valid
//! token in exactly one way.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reconnect_core::secret::IdToken;
use reconnect_e2e::secrets::announce;
use reconnect_oauth::{IdTokenError, IdTokenValidator};
use serde_json::{Value, json};

const SIM_KEY_PEM: &[u8] = include_bytes!("../../src-tauri/crates/sim/fixtures/signing-key.pem");
const SIM_JWK: &str = include_str!("../../src-tauri/crates/sim/fixtures/signing-key.jwk.json");
const CLIENT_ID: &str = "11111111-2222-3333-4444-555555555555";
const NONCE: &str = "nonce-of-this-sign-in";
const NOW: i64 = 1_790_000_000;

/// Alice's tenant (contoso's), as the simulator names it.
fn tenant() -> String {
    reconnect_sim::tenant::home_tenant("alice@contoso.test")
}

fn issuer() -> String {
    format!("http://127.0.0.1:9/{}/v2.0", tenant())
}

fn validator() -> IdTokenValidator {
    let state =
        reconnect_sim::SimState::new(&reconnect_sim::SimConfig::default()).expect("sim state");
    let jwks = serde_json::from_value(state.jwks()).expect("the simulator's JWKS parses");
    let meta = serde_json::from_value(json!({
        "issuer": issuer(),
        "authorization_endpoint": "http://127.0.0.1:9/authorize",
        "token_endpoint": "http://127.0.0.1:9/token",
        "jwks_uri": "http://127.0.0.1:9/keys",
    }))
    .expect("metadata");
    IdTokenValidator::new(meta, jwks)
}

fn good_claims() -> Value {
    json!({
        "iss": issuer(), "aud": CLIENT_ID, "nonce": NONCE, "exp": NOW + 3600, "iat": NOW, "nbf": NOW,
        "sub": "sub-alice", "oid": "oid-alice", "tid": tenant(),
        "preferred_username": "alice@contoso.test",
    })
}

fn rs256(claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(reconnect_sim::keys::RSA_KID.into());
    jsonwebtoken::encode(
        &header,
        claims,
        &EncodingKey::from_rsa_pem(SIM_KEY_PEM).expect("fixture key"),
    )
    .expect("sign")
}

fn with(change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut claims = good_claims();
    change(claims.as_object_mut().expect("object"));
    rs256(&claims)
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn check(token: &str) -> Result<reconnect_oauth::IdTokenClaims, IdTokenError> {
    validator().validate(&IdToken::new(token), CLIENT_ID, NONCE, NOW)
}

/// Asserts a refusal of the expected kind whose message contains `words`.
fn refused(case: &str, token: &str, kind: impl Fn(&IdTokenError) -> bool, words: &str) {
    match check(token) {
        Ok(claims) => panic!("{case}: accepted ({})", claims.display_user()),
        Err(e) => {
            let message = e.to_string();
            assert!(
                kind(&e),
                "{case}: refused for the wrong reason: {message} ({e:?})"
            );
            assert!(
                message.contains(words),
                "{case}: unclear message: {message}"
            );
            assert!(
                !message.contains(token),
                "{case}: the message repeats the token"
            );
            announce(&format!("id_token {case}: refused: {message}"));
        }
    }
}

#[test]
fn a_valid_token_is_accepted_so_the_refusals_below_mean_something() {
    let claims = check(&rs256(&good_claims())).expect("the untouched token validates");
    assert_eq!(claims.display_user(), "alice@contoso.test");
    assert_eq!(claims.oid.as_deref(), Some("oid-alice"));
}

#[test]
fn tampered_and_foreign_signatures_are_refused() {
    let genuine = rs256(&good_claims());
    let parts: Vec<&str> = genuine.split('.').collect();
    let mut forged_claims = good_claims();
    forged_claims["preferred_username"] = json!("mallory@contoso.test");
    forged_claims["oid"] = json!("oid-mallory");
    let swapped = format!("{}.{}.{}", parts[0], b64(&forged_claims), parts[2]);
    refused(
        "with a swapped payload",
        &swapped,
        |e| matches!(e, IdTokenError::Signature(_)),
        "signature",
    );

    let mut flipped = parts[2].to_owned().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let flipped = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        String::from_utf8(flipped).expect("ascii")
    );
    refused(
        "with a flipped signature byte",
        &flipped,
        |e| matches!(e, IdTokenError::Signature(_)),
        "signature",
    );

    // Signed by a key of our own, claiming the provider's EC key id.
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(reconnect_sim::keys::EC_KID.into());
    let foreign = jsonwebtoken::encode(
        &header,
        &good_claims(),
        &EncodingKey::from_ec_der(&pair.serialize_der()),
    )
    .expect("sign");
    refused(
        "signed by a stranger's key",
        &foreign,
        |e| matches!(e, IdTokenError::Signature(_)),
        "signature",
    );

    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("a-key-nobody-published".into());
    let unknown = jsonwebtoken::encode(
        &header,
        &good_claims(),
        &EncodingKey::from_ec_der(&pair.serialize_der()),
    )
    .expect("sign");
    refused(
        "with an unpublished key id",
        &unknown,
        |e| matches!(e, IdTokenError::UnknownKey(_)),
        "a-key-nobody-published",
    );
}

#[test]
fn unsigned_and_hmac_tokens_are_refused() {
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&good_claims())
    );
    refused(
        "with alg none",
        &none,
        |e| matches!(e, IdTokenError::Unsigned),
        "unsigned",
    );
    let none_caps = format!("{}.{}.", b64(&json!({"alg": "NoNe"})), b64(&good_claims()));
    refused(
        "with alg NoNe",
        &none_caps,
        |e| matches!(e, IdTokenError::Unsigned),
        "unsigned",
    );

    // Algorithm confusion: HS256 keyed with the provider's public key, which anyone can fetch.
    let public: Value = serde_json::from_str(SIM_JWK).expect("jwk");
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(reconnect_sim::keys::RSA_KID.into());
    let hmac = jsonwebtoken::encode(
        &header,
        &good_claims(),
        &EncodingKey::from_secret(public.to_string().as_bytes()),
    )
    .expect("sign");
    refused(
        "HS256 keyed with the public key",
        &hmac,
        |e| matches!(e, IdTokenError::Algorithm(_)),
        "HS256",
    );
    refused(
        "that is not a JWT",
        "not-a-jwt",
        |e| matches!(e, IdTokenError::Malformed),
        "well-formed",
    );
}

#[test]
fn wrong_issuer_audience_nonce_and_expiry_are_refused() {
    let other_tenant = format!(
        "http://127.0.0.1:9/{}/v2.0",
        "00000000-0000-0000-0000-000000000bad"
    );
    refused(
        "from another issuer",
        &with(|c| {
            c.insert("iss".into(), json!(other_tenant));
        }),
        |e| matches!(e, IdTokenError::Issuer { .. }),
        "00000000-0000-0000-0000-000000000bad",
    );
    refused(
        "for another app",
        &with(|c| {
            c.insert("aud".into(), json!("22222222-0000-0000-0000-000000000000"));
        }),
        |e| matches!(e, IdTokenError::Audience),
        "not addressed to this application",
    );
    refused(
        "with another sign-in's nonce",
        &with(|c| {
            c.insert("nonce".into(), json!("nonce-of-an-older-sign-in"));
        }),
        |e| matches!(e, IdTokenError::Nonce),
        "nonce",
    );
    refused(
        "without a nonce",
        &with(|c| {
            c.remove("nonce");
        }),
        |e| matches!(e, IdTokenError::Nonce),
        "nonce",
    );
    refused(
        "not valid for another hour",
        &with(|c| {
            c.insert("nbf".into(), json!(NOW + 3600));
        }),
        |e| matches!(e, IdTokenError::NotYetValid { ahead: 3600 }),
        "not valid yet",
    );
    refused(
        "issued an hour in the future",
        &with(|c| {
            c.insert("iat".into(), json!(NOW + 3600));
        }),
        |e| matches!(e, IdTokenError::NotYetValid { .. }),
        "clock",
    );
    refused(
        "for several parties, issued to another",
        &with(|c| {
            c.insert("aud".into(), json!([CLIENT_ID, "api://other"]));
            c.insert("azp".into(), json!("api://other"));
        }),
        |e| matches!(e, IdTokenError::AuthorizedParty),
        "azp",
    );
    refused(
        "expired an hour ago",
        &with(|c| {
            c.insert("exp".into(), json!(NOW - 3600));
        }),
        |e| matches!(e, IdTokenError::Expired { .. }),
        "expired",
    );
}

#[test]
fn times_within_the_clock_skew_and_a_named_authorized_party_pass() {
    let skewed = with(|c| {
        c.insert("nbf".into(), json!(NOW + 120));
        c.insert("iat".into(), json!(NOW + 120));
    });
    assert!(check(&skewed).is_ok(), "two minutes of skew is tolerated");
    let shared = with(|c| {
        c.insert("aud".into(), json!([CLIENT_ID, "api://other"]));
        c.insert("azp".into(), json!(CLIENT_ID));
    });
    assert!(check(&shared).is_ok(), "azp names this app");
}

#[test]
fn another_user_does_not_pass_the_same_account_guard() {
    use reconnect_signin::KnownUser;
    use reconnect_signin::identity::same_user;
    let alice = check(&rs256(&good_claims())).expect("valid");
    let mallory = check(&with(|c| {
        c.insert("oid".into(), json!("oid-mallory"));
        c.insert("sub".into(), json!("sub-mallory"));
        c.insert("preferred_username".into(), json!("mallory@contoso.test"));
    }))
    .expect("a valid token of another user");
    let owner = KnownUser::from_claims(&alice);
    assert!(
        same_user(&owner, &KnownUser::from_claims(&alice), true),
        "the owner passes"
    );
    assert!(
        !same_user(&owner, &KnownUser::from_claims(&mallory), true),
        "Microsoft: oid differs"
    );
    assert!(
        !same_user(&owner, &KnownUser::from_claims(&mallory), false),
        "OpenID: sub differs"
    );
    // Same user name, different object: a recreated account is another user.
    let recreated = check(&with(|c| {
        c.insert("oid".into(), json!("oid-alice-recreated"));
    }))
    .expect("valid");
    assert!(
        !same_user(&owner, &KnownUser::from_claims(&recreated), true),
        "same UPN, new oid"
    );
    announce("id_token same-account guard: 3/3 other users refused, owner accepted");
}

#[test]
fn id_token_without_audience_is_refused() {
    refused(
        "without an audience",
        &with(|c| {
            c.remove("aud");
        }),
        |e| matches!(e, IdTokenError::Audience),
        "aud missing",
    );
}
