//! The one completion path of every sign-in, whichever way the tokens came
//! (a redirect's code, a pasted one, an approved device code): the id_token
//! is validated (its nonce too when the flow sent one; on an unknown key the
//! JWKS is fetched once more, for Microsoft with the application's own keys
//! from `jwks_uri?appid=`), the user must be the one the connection
//! belongs to, and only then is the result stored, through the store's one
//! guarded write path under the account's lock.

use std::time::Instant;

use reconnect_core::secret::IdToken;
use reconnect_oauth::{IdTokenClaims, IdTokenError, TokenResponse};

use crate::error::SigninError;
use crate::flow::{Provider, Signin, elapsed_ms};
use crate::identity::{KnownUser, same_user};
use crate::store::{AccountSettings, Connected, ProviderKind};

impl Signin<'_> {
    /// Checks and stores a token response. `nonce` is the value sent with
    /// the authorization request, `None` for a grant that sends none.
    pub(crate) async fn complete(
        &self,
        settings: &AccountSettings,
        provider: &Provider,
        response: TokenResponse,
        nonce: Option<&str>,
        started: Instant,
    ) -> Result<KnownUser, SigninError> {
        let id_token = response.id_token().ok_or(SigninError::NoIdToken)?;
        let claims = self
            .validated(provider, id_token, &settings.client_id, nonce)
            .await?;
        let user = KnownUser::from_claims(&claims);
        let microsoft = settings.provider == ProviderKind::Microsoft;
        if !same_user(&settings.owner, &user, microsoft) {
            return Err(SigninError::WrongAccount {
                signed_in: user.describe(),
                owner: settings.owner.describe(),
            });
        }
        if response.tokens.refresh_token.is_none() {
            return Err(SigninError::NoRefreshToken);
        }
        let connected = Connected {
            user: user.clone(),
            response,
            at: self.client.now(),
            duration_ms: elapsed_ms(started),
        };
        self.store
            .connected(&settings.name, &connected)
            .map_err(SigninError::Store)?;
        Ok(user)
    }

    async fn validated(
        &self,
        provider: &Provider,
        id_token: &IdToken,
        client_id: &str,
        nonce: Option<&str>,
    ) -> Result<IdTokenClaims, SigninError> {
        let now = self.client.now();
        // Keys rotate, and an Entra app with a custom signing key has its own:
        // on an unknown key both are fetched before the token is refused.
        provider
            .validator
            .validate_fetching(self.client, id_token, client_id, nonce, now)
            .await
            .map_err(|e| match e {
                IdTokenError::Keys(_) => SigninError::Keys(e),
                other => SigninError::IdToken(other),
            })
    }
}
