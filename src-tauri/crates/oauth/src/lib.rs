//! `reconnect-oauth` talks to token endpoints: refresh and code-exchange
//! requests, OpenID Connect discovery, and id_token validation against the
//! provider's JWKS. It follows no redirects, caps response sizes and times out.
