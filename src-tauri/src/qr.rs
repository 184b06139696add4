//! QR codes for the webview: a URL drawn as an inline SVG element, so a
//! phone's camera can open the page "Sign in on another device" names.
//! Only addresses that are safe to show are drawn (never a secret).

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// The drawn code's smallest side, in CSS pixels.
const MIN_SIDE: u32 = 180;

/// `text` as an `<svg>` element (no XML prolog), dark modules on white with
/// the quiet zone scanners need; `None` when it is too long to encode.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color<'_>>()
        .min_dimensions(MIN_SIDE, MIN_SIDE)
        .quiet_zone(true)
        .build();
    let start = image.find("<svg").unwrap_or(0);
    Some(image[start..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_becomes_one_svg_element_without_its_text() {
        let url = "https://microsoft.com/devicelogin";
        let drawn = svg(url).expect("a short URL encodes");
        assert!(drawn.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(drawn.ends_with("</svg>"));
        assert!(!drawn.contains("<?xml"), "no prolog: {}", &drawn[..60]);
        assert!(!drawn.contains("devicelogin"), "the modules, not the text");
        assert!(!drawn.contains("<script") && !drawn.contains("style="));
    }

    #[test]
    fn text_too_long_for_a_code_is_none() {
        assert!(svg(&"x".repeat(5000)).is_none());
    }
}
