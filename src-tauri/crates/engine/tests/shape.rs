//! The engine stays readable: no function in `src/` is longer than 80
//! lines (a refresh is a short function over named steps, not one long
//! body). Counted from the `fn` line to its closing brace, as rustfmt lays
//! them out.

use std::path::Path;

const LIMIT: usize = 80;

/// (file, function, lines) of every function in `source`.
fn functions(file: &str, source: &str) -> Vec<(String, String, usize)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let is_fn = [
            "fn ",
            "pub fn ",
            "pub(crate) fn ",
            "async fn ",
            "pub async fn ",
            "pub(crate) async fn ",
        ]
        .iter()
        .any(|p| trimmed.starts_with(p));
        if is_fn && !trimmed.ends_with(';') {
            let name = trimmed
                .split("fn ")
                .nth(1)
                .and_then(|rest| rest.split(['(', '<']).next())
                .unwrap_or("?")
                .to_owned();
            let close = format!("{}}}", " ".repeat(indent));
            let end = (i..lines.len())
                .find(|&j| lines[j] == close || (j == i && trimmed.ends_with('}')))
                .unwrap_or(i);
            found.push((file.to_owned(), name, end - i + 1));
            i = end;
        }
        i += 1;
    }
    found
}

#[test]
fn no_engine_function_is_longer_than_80_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    for entry in std::fs::read_dir(&src).expect("src/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read");
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            all.extend(functions(&file, &text));
        }
    }
    assert!(
        all.len() > 50,
        "the scan found the engine's functions: {}",
        all.len()
    );
    assert!(
        all.iter().any(|(_, name, _)| name == "obtain"),
        "the scan sees Engine::obtain"
    );
    let long: Vec<_> = all.iter().filter(|(_, _, n)| *n > LIMIT).collect();
    assert!(long.is_empty(), "functions over {LIMIT} lines: {long:?}");
}

#[test]
fn the_counter_measures_what_it_claims() {
    let source = "fn short() {\n    1;\n}\n\nimpl X {\n    pub async fn long() {\n        a;\n        b;\n    }\n}\n";
    let found = functions("x.rs", source);
    assert_eq!(
        found,
        [
            ("x.rs".to_owned(), "short".to_owned(), 3),
            ("x.rs".to_owned(), "long".to_owned(), 4)
        ]
    );
}
