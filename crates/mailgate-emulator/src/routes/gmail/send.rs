//! `users.messages.send`, as JSON (`{"raw": base64url}`) and as a media upload
//! (`/upload/...?uploadType=media`, `Content-Type: message/rfc822`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Caller, authorize};
use crate::mail::{self, message};
use crate::routes::gmail_error::GmailError;
use crate::routes::params::Params;
use crate::scopes;
use crate::state::{SentMessage, Shared};

/// Gmail takes base64url with or without padding (and, in practice, standard base64 too).
const LENIENT: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, LENIENT);
const STANDARD_LENIENT: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, LENIENT);

#[derive(Debug, Deserialize)]
struct SendRequest {
    #[serde(default)]
    raw: Option<String>,
    #[serde(default, rename = "threadId")]
    thread_id: Option<String>,
}

/// `POST /gmail/v1/users/{userId}/messages/send`.
pub async fn send_json(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let caller = authorize(&shared, &headers, &user_id, scopes::SEND_SCOPES).await?;
        let request: SendRequest = serde_json::from_slice(&body).map_err(|e| {
            GmailError::invalid_argument(format!("Invalid JSON payload received. {e}"))
        })?;
        let raw = request.raw.filter(|r| !r.is_empty()).ok_or_else(|| {
            GmailError::invalid_argument(
                "'raw' RFC822 payload message string or uploading message via /upload/* URL required",
            )
        })?;
        let bytes = decode_raw(&raw).ok_or_else(|| {
            let shown: String = raw.chars().take(40).collect();
            GmailError::invalid_argument(format!("Invalid value for ByteString: {shown}"))
        })?;
        send_message(&shared, &caller, &bytes, request.thread_id).await
    }
    .await;
    respond(result)
}

/// `POST /upload/gmail/v1/users/{userId}/messages/send?uploadType=media`.
pub async fn send_upload(
    State(shared): State<Arc<Shared>>,
    Path(user_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let caller = authorize(&shared, &headers, &user_id, scopes::SEND_SCOPES).await?;
        let params = Params::from_query(query.as_deref());
        if params.get("uploadType") != Some("media") {
            return Err(GmailError::invalid_argument(
                "Unsupported upload type: the emulator accepts uploadType=media only.",
            ));
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !content_type
            .trim()
            .to_ascii_lowercase()
            .starts_with("message/")
        {
            return Err(GmailError::bad_content(format!(
                "Media type '{content_type}' is not supported. Valid media types: [message/*]"
            )));
        }
        send_message(
            &shared,
            &caller,
            &body,
            params.get("threadId").map(str::to_owned),
        )
        .await
    }
    .await;
    respond(result)
}

fn respond(result: Result<Value, GmailError>) -> Response {
    match result {
        Ok(body) => Json(body).into_response(),
        Err(e) => e.into_response(),
    }
}

fn decode_raw(raw: &str) -> Option<Vec<u8>> {
    let raw = raw.trim();
    URL_SAFE_LENIENT
        .decode(raw)
        .or_else(|_| STANDARD_LENIENT.decode(raw))
        .ok()
}

/// Parses, prepares and delivers one message, then records it.
async fn send_message(
    shared: &Shared,
    caller: &Caller,
    raw: &[u8],
    thread_id: Option<String>,
) -> Result<Value, GmailError> {
    let fields = message::headers(raw);
    let recipients =
        message::recipients(&fields).map_err(|e| GmailError::invalid_argument(e.to_string()))?;
    if recipients.is_empty() {
        return Err(GmailError::invalid_argument("Recipient address required"));
    }
    let id = {
        let mut state = shared.lock();
        state.history_id += 1;
        let millis =
            u64::try_from(shared.clock.now_datetime().timestamp_millis()).unwrap_or_default();
        format!("{:016x}", (millis << 12) | (state.history_id & 0xfff))
    };
    let message_id = format!("{}@mail.gmail.com", uuid::Uuid::new_v4().simple());
    let date = shared.clock.now_datetime().to_rfc2822();
    let prepared = message::prepare_for_delivery(raw, &message_id, &date);
    let config = &shared.config;
    let envelope = mail::envelope_recipients(
        &recipients,
        &config.local_domain,
        config.catchall.as_deref(),
    );

    let relayed = match shared.smtp_relay() {
        None => false,
        Some(relay) => {
            match mail::deliver(
                relay,
                config.smtp_timeout,
                &caller.email,
                &envelope,
                &prepared,
            )
            .await
            {
                Ok(refusals) => {
                    for (rcpt, code, text) in refusals {
                        tracing::warn!(%rcpt, code, %text, "the relay refused a recipient");
                    }
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "delivery to the SMTP relay failed");
                    return Err(if e.is_transient() {
                        GmailError::unavailable()
                    } else {
                        GmailError::internal()
                    });
                }
            }
        }
    };

    let thread_id = thread_id.unwrap_or_else(|| id.clone());
    let mut state = shared.lock();
    state.counters.sends += 1;
    state.sent.push(SentMessage {
        id: id.clone(),
        thread_id: thread_id.clone(),
        from: caller.email.clone(),
        header_recipients: recipients,
        envelope_recipients: envelope,
        raw: String::from_utf8_lossy(&prepared).into_owned(),
        relayed,
        sent_at: shared.clock.now(),
    });
    Ok(json!({"id": id, "threadId": thread_id, "labelIds": ["SENT"]}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_decodes_padded_unpadded_and_standard() {
        let text = b"To: a@example.test\r\n\r\n??>>";
        let url_padded = base64::engine::general_purpose::URL_SAFE.encode(text);
        let url_bare = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text);
        let standard = base64::engine::general_purpose::STANDARD.encode(text);
        for encoded in [url_padded, url_bare, standard] {
            assert_eq!(
                decode_raw(&encoded).as_deref(),
                Some(&text[..]),
                "{encoded}"
            );
        }
        assert_eq!(decode_raw("***"), None);
    }
}
