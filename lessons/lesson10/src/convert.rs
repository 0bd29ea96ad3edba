//! From the `oauth2` crate's answers to the lab's types, so that this lesson
//! ends where lesson 07 did: [`StoredTokens`](crate::StoredTokens) for the
//! cache, [`TokenError`] for errors. Given: read it if you are curious.

use std::cell::RefCell;
use std::fmt::Display;

use labkit::{ErrorCode, Secret, TokenError, Tokens};
use oauth2::basic::{BasicTokenResponse, BasicTokenType};
use oauth2::{
    ErrorResponseType, HttpRequest, HttpResponse, RequestTokenError, StandardErrorResponse,
    SyncHttpClient, TokenResponse,
};

/// oauth2's errors do not say which HTTP status came back (a `TokenError`
/// does). `Noted` hands each request to an HTTP client and notes the status
/// and body of the answer on the way back, for [`Noted::token_error`].
pub struct Noted<'a, C> {
    http: &'a C,
    answer: RefCell<Option<(u16, Vec<u8>)>>,
}

impl<'a, C: SyncHttpClient> Noted<'a, C> {
    pub fn new(http: &'a C) -> Self {
        Noted {
            http,
            answer: RefCell::new(None),
        }
    }

    /// The [`TokenError`] for an oauth2 error, sorted by the status that came
    /// back, as lesson 04 did: 4xx with an RFC 6749 §5.2 body is `Rejected`,
    /// 5xx a server error, a body that is not the JSON expected `NotJson`.
    pub fn token_error<T>(
        &self,
        error: RequestTokenError<C::Error, StandardErrorResponse<T>>,
    ) -> TokenError
    where
        T: ErrorResponseType + AsRef<str> + Display + 'static,
    {
        let (status, body) = match (error, self.answer.take()) {
            (RequestTokenError::Request(e), _) => return TokenError::Network(e.to_string()),
            (RequestTokenError::ServerResponse(e), Some((status, _)))
                if (400..500).contains(&status) =>
            {
                return TokenError::Rejected {
                    status,
                    code: ErrorCode::from(e.error().as_ref()),
                    description: e.error_description().cloned(),
                };
            }
            (_, Some(answer)) => answer,
            // oauth2 stopped before sending anything.
            (other, None) => return TokenError::Network(other.to_string()),
        };
        match status {
            500..=599 => TokenError::ServerError { status },
            // JSON of another shape may hold a token: never show it.
            200 if serde_json::from_slice::<serde_json::Value>(&body).is_ok() => {
                TokenError::NotJson {
                    status,
                    body_start: "JSON, but not a token response (RFC 6749 §5.1)".into(),
                }
            }
            200 | 400..=499 => TokenError::NotJson {
                status,
                body_start: labkit::body_start(&String::from_utf8_lossy(&body)),
            },
            _ => TokenError::UnexpectedStatus { status },
        }
    }
}

impl<C: SyncHttpClient> SyncHttpClient for Noted<'_, C> {
    type Error = C::Error;

    fn call(&self, request: HttpRequest) -> Result<HttpResponse, Self::Error> {
        let response = self.http.call(request)?;
        *self.answer.borrow_mut() = Some((response.status().as_u16(), response.body().clone()));
        Ok(response)
    }
}

/// oauth2's token response as lesson 04's [`Tokens`]; Bearer tokens only
/// (RFC 6749 §7.1: never use a token of a type we do not understand).
pub fn tokens_of(answer: &BasicTokenResponse) -> Result<Tokens, TokenError> {
    if *answer.token_type() != BasicTokenType::Bearer {
        return Err(TokenError::UnsupportedTokenType(
            answer.token_type().as_ref().to_string(),
        ));
    }
    Ok(Tokens {
        access_token: Secret::new(answer.access_token().secret()),
        token_type: "Bearer".into(),
        expires_in: answer.expires_in().map(|lifetime| lifetime.as_secs()),
        refresh_token: answer.refresh_token().map(|t| Secret::new(t.secret())),
        scope: answer.scopes().map(|scopes| {
            scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        }),
    })
}
