//! Small HTML pages for the browser side of OAuth (the callback and the start redirect).

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use mailgate_domain::troubleshoot::Diagnosis;

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title} - mailgate</title><style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}\
         .ok{{color:#176f2c}}.bad{{color:#a4161a}}code{{background:#f2f2f2;padding:0 .2em}}.hint{{background:#fff8e1;border-left:4px solid #f0b400;padding:.5rem 1rem}}</style>\
         </head><body>{body}</body></html>",
        title = escape(title)
    );
    (status, [("Cache-Control", "no-store")], Html(html)).into_response()
}

pub fn connected(server: &str, mailbox: &str, scope: &str) -> Response {
    page(
        StatusCode::OK,
        "Connected",
        &format!(
            "<h1 class=\"ok\">Connected</h1><p><strong>{}</strong> can now use the mailbox <strong>{}</strong> without a password.</p>\
             <p>Granted scopes: <code>{}</code></p><p>You can close this window.</p>",
            escape(server),
            escape(mailbox),
            escape(scope)
        ),
    )
}

pub fn failed(server: Option<&str>, d: &Diagnosis) -> Response {
    let what = server
        .map(|s| format!(" for <strong>{}</strong>", escape(s)))
        .unwrap_or_default();
    page(
        StatusCode::BAD_REQUEST,
        "Not connected",
        &format!(
            "<h1 class=\"bad\">Not connected{what}</h1><p>{}</p><div class=\"hint\"><p><strong>How to fix it:</strong> {}</p></div>\
             <p><small>Error code: <code>{}</code></small></p>",
            escape(&d.message),
            escape(&d.hint),
            escape(d.code.as_str())
        ),
    )
}
