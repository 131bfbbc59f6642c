//! A Gmail API client for what mailgate needs: `users.messages.send` (JSON or media upload)
//! and `users.getProfile` (Test Connection).
//!
//! The access token is the caller's (refreshing it is not this module's job): it goes into
//! the `Authorization` header, which reqwest marks sensitive, and nowhere else; no error, log
//! line or `Debug` output holds it. Failures are [`GmailError`]s that say whether to retry and,
//! through the troubleshooting catalog, what to fix.

mod error;
#[cfg(test)]
mod tests;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use error::{GmailError, GoogleError};

/// Largest request body sent as a simple (non-upload) request. Google's upload guide puts
/// simple transfers at "5 MB or less"; the JSON body is the message in base64, a third larger,
/// so messages up to about 3.7 MB go as JSON and larger ones through the media upload.
pub const SIMPLE_REQUEST_MAX_BYTES: usize = 5_000_000;
/// Largest message `users.messages.send` accepts: 35 MB ("Maximum file size: 35MB", `maxSize`
/// 36700160 in the API's discovery document). Larger ones are refused before uploading.
pub const MAX_MESSAGE_BYTES: usize = 35 * 1024 * 1024;
/// Per request, uploads included (35 MB at 1 MB/s fits).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// A Gmail API endpoint: `https://gmail.googleapis.com`, or an emulator in tests.
#[derive(Debug, Clone)]
pub struct GmailClient {
    http: reqwest::Client,
    base: String,
    timeout: Duration,
}

/// What `users.messages.send` answers. Reads Google's camelCase; writes snake_case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GmailSent {
    pub id: String,
    #[serde(default, alias = "threadId")]
    pub thread_id: Option<String>,
    #[serde(default, alias = "labelIds")]
    pub label_ids: Vec<String>,
}

/// What `users.getProfile` answers. Reads Google's camelCase; writes snake_case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GmailProfile {
    #[serde(alias = "emailAddress")]
    pub email_address: String,
    #[serde(default, alias = "messagesTotal")]
    pub messages_total: Option<u64>,
    #[serde(default, alias = "threadsTotal")]
    pub threads_total: Option<u64>,
    /// A decimal string in Google's JSON (a uint64).
    #[serde(default, alias = "historyId")]
    pub history_id: Option<String>,
}

#[derive(Serialize)]
struct RawMessage<'a> {
    raw: &'a str,
}

impl GmailClient {
    /// `api_base_url` without a path: `https://gmail.googleapis.com` or `http://127.0.0.1:port`.
    /// A URL that does not parse is reported by the first call.
    pub fn new(http: reqwest::Client, api_base_url: &str) -> Self {
        Self {
            http,
            base: api_base_url.trim().trim_end_matches('/').to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Limits each request (connection, upload and answer) to `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn api_base_url(&self) -> &str {
        &self.base
    }

    /// `users.messages.send`: `{"raw": base64url}` while the request stays within
    /// [`SIMPLE_REQUEST_MAX_BYTES`], otherwise the media upload
    /// (`/upload/gmail/v1/users/{user}/messages/send?uploadType=media`, `message/rfc822`).
    /// Messages over [`MAX_MESSAGE_BYTES`] are refused without a request. `user` is usually
    /// `me`. Gmail takes the recipients from To, Cc and Bcc (see
    /// `mailgate_domain::mail::compose::render_for_gmail_api`).
    pub async fn send_raw(
        &self,
        access_token: &SecretString,
        user: &str,
        message: &[u8],
    ) -> Result<GmailSent, GmailError> {
        if message.is_empty() {
            return Err(GmailError::InvalidInput("the message is empty".into()));
        }
        if message.len() > MAX_MESSAGE_BYTES {
            return Err(GmailError::TooLarge {
                size: message.len(),
                max: MAX_MESSAGE_BYTES,
            });
        }
        let path = ["users", user, "messages", "send"];
        let request = if uses_upload(message.len()) {
            let url = self.url(&["upload", "gmail", "v1"], &path)?;
            self.http
                .post(url)
                .query(&[("uploadType", "media")])
                .header(CONTENT_TYPE, "message/rfc822")
                .body(message.to_vec())
        } else {
            let url = self.url(&["gmail", "v1"], &path)?;
            let raw = URL_SAFE.encode(message);
            self.http.post(url).json(&RawMessage { raw: &raw })
        };
        self.call(request, access_token).await
    }

    /// `users.getProfile`: the mailbox's address and counts, for Test Connection.
    pub async fn profile(
        &self,
        access_token: &SecretString,
        user: &str,
    ) -> Result<GmailProfile, GmailError> {
        let url = self.url(&["gmail", "v1"], &["users", user, "profile"])?;
        self.call(self.http.get(url), access_token).await
    }

    /// The base URL with `prefix` and `path` appended, each segment percent-encoded.
    fn url(&self, prefix: &[&str], path: &[&str]) -> Result<url::Url, GmailError> {
        if path.iter().any(|s| s.trim().is_empty()) {
            return Err(GmailError::InvalidInput(
                "the user (an address or `me`) is empty".into(),
            ));
        }
        let bad = |detail: &str| GmailError::BadBaseUrl {
            url: self.base.clone(),
            detail: detail.to_owned(),
        };
        let mut url = url::Url::parse(&self.base).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
            return Err(bad("it is not an http or https URL with a host"));
        }
        url.set_query(None);
        url.set_fragment(None);
        url.path_segments_mut()
            .map_err(|()| bad("it cannot have a path"))?
            .pop_if_empty()
            .extend(prefix)
            .extend(path);
        Ok(url)
    }

    /// Sends with the token and the timeout; a 2xx answer is read as `T`, anything else
    /// becomes a [`GmailError`].
    async fn call<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        token: &SecretString,
    ) -> Result<T, GmailError> {
        let response = request
            .bearer_auth(token.expose_secret())
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| GmailError::transport(&self.base, &e))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| GmailError::unanswered(&self.base, &e))?;
        if !(200..300).contains(&status) {
            return Err(GmailError::from_response(status, &headers, &body));
        }
        serde_json::from_slice(&body).map_err(|e| GmailError::bad_answer(status, &e, &body))
    }
}

/// Whether a message of `len` bytes goes through the media upload: when its JSON request
/// (`{"raw":"..."}`, base64 with padding) would exceed [`SIMPLE_REQUEST_MAX_BYTES`].
pub fn uses_upload(len: usize) -> bool {
    let json = len
        .div_ceil(3)
        .saturating_mul(4)
        .saturating_add(r#"{"raw":""}"#.len());
    json > SIMPLE_REQUEST_MAX_BYTES
}
