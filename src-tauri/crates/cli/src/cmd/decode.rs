//! `reconnect decode`: explain any sign-in failure.
//!
//! INPUT is the text itself (a JSON error body, an `error_description`,
//! `AADSTS700082`, `700082`, or an authorize redirect URL/query); `-` or no
//! argument reads stdin. Prints a readable block, or with `--json` one object
//! with exactly the keys of the decoder's CLI contract. Exit 0 whenever
//! something was decoded; empty input is an error (exit 1).

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use reconnect_core::decode::{DecodeError, decode_text};

use super::exit;

/// Largest input read from stdin; more is cut off (a real error body is ~1 KiB).
const MAX_STDIN_BYTES: u64 = 1024 * 1024;

/// Arguments of `reconnect decode`.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// Print one JSON object instead of a readable block.
    #[arg(long)]
    pub json: bool,
    /// The text to decode; `-` or nothing reads stdin.
    #[arg(value_name = "INPUT")]
    pub input: Option<String>,
}

/// Runs `reconnect decode`.
pub fn run(args: DecodeArgs) -> ExitCode {
    match decode(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("reconnect decode: {err:#}");
            ExitCode::from(exit::OTHER)
        }
    }
}

fn read_input(args: &DecodeArgs) -> anyhow::Result<String> {
    match args.input.as_deref() {
        Some(text) if text != "-" => Ok(text.to_owned()),
        _ => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                eprintln!(
                    "Paste the error (a JSON body, a description or a code), then press Ctrl-D:"
                );
            }
            let mut raw = Vec::new();
            stdin
                .lock()
                .take(MAX_STDIN_BYTES)
                .read_to_end(&mut raw)
                .context("could not read standard input")?;
            Ok(String::from_utf8_lossy(&raw).into_owned())
        }
    }
}

fn decode(args: &DecodeArgs) -> anyhow::Result<()> {
    let text = read_input(args)?;
    let verdict = decode_text(&text).map_err(|e| match e {
        DecodeError::Empty => anyhow::anyhow!(
            "nothing to decode: give an error body, a description or an AADSTS code as INPUT, or pipe it on stdin"
        ),
    })?;
    let out = if args.json {
        let mut json = serde_json::to_string_pretty(&verdict)
            .context("could not write the verdict as JSON")?;
        json.push('\n');
        json
    } else {
        verdict.to_text()
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out.as_bytes())
        .context("could not write to standard output")?;
    stdout
        .flush()
        .context("could not write to standard output")?;
    Ok(())
}
