//! The interactive sign-in flow behind `/authorize`: the steps a person (or a
//! headless browser) walks through, kept server-side between form posts.

/// A sign-in page in progress.
#[derive(Debug, Clone)]
pub struct Flow {
    /// Client id.
    pub client_id: String,
}
