//! Decoded tray pictures, to compare what the tray draws with the icons
//! the app ships.

use std::path::Path;

use anyhow::Context;

/// A decoded picture: width, height and 8-bit RGBA pixels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// RGBA, row by row.
    pub rgba: Vec<u8>,
}

impl Picture {
    /// Decodes a PNG (8-bit RGBA, or anything that expands to it).
    pub fn from_png(bytes: &[u8]) -> anyhow::Result<Self> {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
        let mut reader = decoder.read_info()?;
        let mut buf = vec![0; reader.output_buffer_size().context("PNG too large")?];
        let frame = reader.next_frame(&mut buf)?;
        buf.truncate(frame.buffer_size());
        let rgba = match frame.color_type {
            png::ColorType::Rgba => buf,
            png::ColorType::Rgb => buf
                .chunks(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            png::ColorType::GrayscaleAlpha => buf
                .chunks(2)
                .flat_map(|p| [p[0], p[0], p[0], p[1]])
                .collect(),
            png::ColorType::Grayscale => buf.iter().flat_map(|g| [*g, *g, *g, 255]).collect(),
            png::ColorType::Indexed => anyhow::bail!("an unexpanded palette PNG"),
        };
        Ok(Self {
            width: frame.width,
            height: frame.height,
            rgba,
        })
    }

    /// Reads and decodes a PNG file.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Self::from_png(&bytes).with_context(|| format!("decoding {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_tray_pictures_decode_and_differ() {
        let icons = crate::harness::workspace_root().join("icons");
        let healthy = Picture::load(&icons.join("tray.png")).unwrap();
        let attention = Picture::load(&icons.join("tray-attention.png")).unwrap();
        for p in [&healthy, &attention] {
            assert_eq!((p.width, p.height), (32, 32));
            assert_eq!(p.rgba.len(), 32 * 32 * 4);
        }
        assert_ne!(healthy, attention);
        assert!(Picture::from_png(b"not a png").is_err());
    }
}
