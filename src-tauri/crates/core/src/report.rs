//! Errors as one line of text: the error's message followed by its causes,
//! each cause left out when the text before already says it (wrapping errors
//! often repeat their source). The app and the sign-in flow word their
//! messages around this.

use std::error::Error;

/// `err`'s message and its causes, joined with `": "`.
pub fn chain(err: &(dyn Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Layer(&'static str, Option<Box<Layer>>);

    impl std::fmt::Display for Layer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.1.as_deref().map(|e| e as &(dyn Error + 'static))
        }
    }

    #[test]
    fn causes_follow_unless_already_said() {
        let inner = Layer("connection refused", None);
        let middle = Layer(
            "could not connect: connection refused",
            Some(Box::new(inner)),
        );
        let outer = Layer("refresh failed", Some(Box::new(middle)));
        assert_eq!(
            chain(&outer),
            "refresh failed: could not connect: connection refused"
        );
    }
}
