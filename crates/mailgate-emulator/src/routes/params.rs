//! Request parameters from the query string, a form body or a JSON body, read leniently: Google's
//! endpoints take form bodies but also accept the same fields as JSON, and clients differ in the
//! `Content-Type` they send.

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Name/value pairs in arrival order; the first occurrence of a name wins.
#[derive(Debug, Default, Clone)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn from_query(query: Option<&str>) -> Self {
        Self(
            url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// A form body, or a JSON object when the request says it is JSON.
    pub fn from_body(headers: &HeaderMap, body: &[u8]) -> Self {
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if is_json && let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) {
            return Self(
                map.into_iter()
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => (k, s),
                        other => (k, other.to_string()),
                    })
                    .collect(),
            );
        }
        Self(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// Query parameters followed by body parameters (a name in both: the query wins).
    pub fn merged(mut self, other: Self) -> Self {
        self.0.extend(other.0);
        self
    }

    /// The value of `name`, `None` when absent or empty (Google treats both as missing).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// `Authorization: Basic base64(client_id:client_secret)`, each part form-urlencoded as RFC 6749
/// section 2.3.1 asks.
pub fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id), form_decode(secret)))
}

/// The token of `Authorization: Bearer T`.
pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

fn form_decode(part: &str) -> String {
    url::form_urlencoded::parse(format!("x={part}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn form_json_and_query_parameters_read_alike() {
        let mut headers = HeaderMap::new();
        let form = Params::from_body(&headers, b"grant_type=refresh_token&scope=a+b&empty=");
        assert_eq!(form.get("grant_type"), Some("refresh_token"));
        assert_eq!(form.get("scope"), Some("a b"));
        assert_eq!(form.get("empty"), None);

        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        let json = Params::from_body(&headers, br#"{"grant_type":"refresh_token","n":3}"#);
        assert_eq!(json.get("grant_type"), Some("refresh_token"));
        assert_eq!(json.get("n"), Some("3"));

        let merged = Params::from_query(Some("token=q"))
            .merged(Params::from_body(&HeaderMap::new(), b"token=b"));
        assert_eq!(merged.get("token"), Some("q"));
    }

    #[test]
    fn basic_and_bearer_credentials_are_read() {
        let mut headers = HeaderMap::new();
        // "my%3Aid:s%2Bcret" -> id "my:id", secret "s+cret"
        let encoded = STANDARD.encode("my%3Aid:s%2Bcret");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).expect("header"),
        );
        assert_eq!(
            basic_credentials(&headers),
            Some(("my:id".into(), "s+cret".into()))
        );
        assert_eq!(bearer_token(&headers), None);

        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer ya29.x"),
        );
        assert_eq!(bearer_token(&headers), Some("ya29.x".into()));
    }
}
