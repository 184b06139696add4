//! How long decoding takes: a full token-endpoint error body (all fields,
//! trailers, claims challenge), a bare description, and a table lookup.
//! Run with `cargo bench -p reconnect-core --bench decode`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use reconnect_core::decode::{TokenResponse, decode_text, decode_token_response, lookup, table};

const FULL_BODY: &str = r#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2024-03-01T08:00:00.0000000Z and was inactive for 90.00:00:00.\r\nTrace ID: 0d5bd2c4-d4a4-4a53-8d3e-1f2a3b4c5d00\r\nCorrelation ID: 7f1c2b3a-aaaa-bbbb-cccc-0123456789ab\r\nTimestamp: 2024-07-01 09:15:42Z","error_codes":[70002,700082],"timestamp":"2024-07-01 09:15:42Z","trace_id":"0d5bd2c4-d4a4-4a53-8d3e-1f2a3b4c5d00","correlation_id":"7f1c2b3a-aaaa-bbbb-cccc-0123456789ab","error_uri":"https://login.microsoftonline.com/error?code=700082","suberror":"bad_token","claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"9a1e2f3c-0000-4000-8000-000000000001\"]}}}"}"#;

fn bench(c: &mut Criterion) {
    // Parse the table before timing anything.
    black_box(table::rows());
    c.bench_function("decode full token error body", |b| {
        b.iter(|| {
            let response = TokenResponse {
                status: 400,
                retry_after: None,
                content_type: Some("application/json; charset=utf-8"),
                body: black_box(FULL_BODY.as_bytes()),
            };
            decode_token_response(&response, 1_719_825_342)
        })
    });
    c.bench_function("decode bare description", |b| {
        b.iter(|| {
            decode_text(black_box(
                "AADSTS53003: Access has been blocked by Conditional Access policies.",
            ))
        })
    });
    c.bench_function("table lookup", |b| b.iter(|| lookup(black_box(700084))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
