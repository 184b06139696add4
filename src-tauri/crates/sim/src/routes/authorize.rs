//! `GET`/`POST /{tenant}/oauth2/v2.0/authorize`: the sign-in page.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// First request from the client's browser.
pub async fn start() -> Response {
    (StatusCode::NOT_IMPLEMENTED, "sign-in page not built yet").into_response()
}

/// A form post from one of the page's steps.
pub async fn step() -> Response {
    (StatusCode::NOT_IMPLEMENTED, "sign-in page not built yet").into_response()
}
