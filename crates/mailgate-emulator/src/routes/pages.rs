//! The HTML the user sees at accounts.google.com: the sign-in + consent page and the error pages
//! Google shows instead of redirecting (wrong client, wrong redirect URI, bad scope).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

const STYLE: &str = "body{font-family:Roboto,Arial,sans-serif;background:#f0f4f9;margin:0}\
main{max-width:460px;margin:48px auto;background:#fff;border-radius:28px;padding:36px 40px}\
h1{font-weight:400;font-size:28px;margin:0 0 16px}.brand{color:#1a73e8;font-size:14px;margin-bottom:24px}\
label{display:block;margin:16px 0 6px}input[type=email]{width:100%;box-sizing:border-box;padding:12px;\
font-size:16px;border:1px solid #747775;border-radius:4px}ul{padding-left:20px}code{word-break:break-all}\
.buttons{display:flex;gap:12px;justify-content:flex-end;margin-top:28px}\
button{padding:10px 24px;border-radius:20px;font-size:14px;cursor:pointer}\
.allow{background:#0b57d0;color:#fff;border:0}.deny{background:#fff;color:#0b57d0;border:1px solid #747775}\
.notice{color:#b3261e}.error{color:#b3261e;font-size:20px}";

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>\
         <div class=\"brand\">Google emulator (mailgate test double)</div>{body}</main></body></html>",
        escape(title)
    )
}

/// Google's error page: "Error {status}: {code}" plus an explanation; never a redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPage {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
}

impl ErrorPage {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
        }
    }

    pub fn invalid_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", detail)
    }
}

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        let heading = format!("Error {}: {}", self.status.as_u16(), self.code);
        let body = format!(
            "<h1>Access blocked: authorization error</h1>\
             <p class=\"error\" id=\"error-code\">{}</p><p id=\"error-detail\">{}</p>",
            escape(&heading),
            escape(&self.detail)
        );
        (self.status, Html(document(&heading, &body))).into_response()
    }
}

/// What the consent page shows.
pub struct ConsentView<'a> {
    pub request_id: &'a str,
    pub client_id: &'a str,
    pub scopes: &'a [String],
    pub email: Option<&'a str>,
    pub notice: Option<&'a str>,
}

/// The sign-in + consent page: an email field and Allow / Deny, posted to the decision endpoint
/// with the server-side request id.
pub fn consent_page(view: &ConsentView<'_>) -> Response {
    let scopes: String = view
        .scopes
        .iter()
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    let notice = view
        .notice
        .map(|n| format!("<p class=\"notice\" id=\"notice\">{}</p>", escape(n)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign in with Google</h1>\
         <p><code>{client}</code> wants to access your Google Account.</p>\
         <p>This will allow it to:</p><ul id=\"scopes\">{scopes}</ul>{notice}\
         <form method=\"post\" action=\"/o/oauth2/v2/auth/decision\">\
         <input type=\"hidden\" name=\"request_id\" value=\"{request_id}\">\
         <label for=\"email\">Email</label>\
         <input type=\"email\" id=\"email\" name=\"email\" value=\"{email}\" autocomplete=\"email\" required>\
         <div class=\"buttons\">\
         <button class=\"deny\" type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Cancel</button>\
         <button class=\"allow\" type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
         </div></form>",
        client = escape(view.client_id),
        request_id = escape(view.request_id),
        email = escape(view.email.unwrap_or_default()),
    );
    Html(document("Sign in - Google Accounts", &body)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;"
        );
    }
}
