//! The decode tool: pasted text in, the decoder's verdict out (the JSON of
//! `reconnect decode --json`).

use reconnect_core::decode::{self, Verdict};

use crate::backend::Failure;

/// Decodes an error body, description, redirect or code.
#[tauri::command]
pub fn decode_text(text: String) -> Result<Verdict, Failure> {
    Ok(decode::decode_text(&text)?)
}
