//! A tiny Google-style tokeninfo endpoint for Dovecot's oauth2 passdb (stand-in until the
//! provider emulator takes over). Runs on its own thread and runtime because every
//! `#[tokio::test]` has a runtime of its own that ends with the test.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

type Tokens = Arc<Mutex<HashMap<String, String>>>;

pub struct TokenInfo {
    port: u16,
    tokens: Tokens,
}

impl TokenInfo {
    pub fn spawn() -> TokenInfo {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind tokeninfo");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("local addr").port();
        let tokens = Tokens::default();
        let shared = tokens.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokeninfo runtime");
            runtime.block_on(serve(listener, shared));
        });
        TokenInfo { port, tokens }
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A new access token that the endpoint reports as valid for `email`.
    pub fn mint(&self, email: &str) -> String {
        let token = format!("ya29.test-{}", uuid::Uuid::new_v4().simple());
        let mut tokens = self.tokens.lock().expect("token map");
        tokens.insert(token.clone(), email.to_owned());
        token
    }
}

async fn serve(listener: std::net::TcpListener, tokens: Tokens) {
    let listener = TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(answer(stream, tokens.clone()));
    }
}

async fn answer(stream: TcpStream, tokens: Tokens) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    let mut request_line = String::new();
    stream.read_line(&mut request_line).await?;
    // Skip the headers; Dovecot sends no body with GET.
    let mut header = String::new();
    while stream.read_line(&mut header).await? > 2 {
        header.clear();
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("");
    let token = target.strip_prefix("/tokeninfo?").and_then(|query| {
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix("access_token="))
    });
    let email = token.and_then(|t| tokens.lock().expect("token map").get(t).cloned());
    // Invalid tokens get 400: Dovecot treats any 4xx as "invalid token"; a 200 with a
    // negative expiry would be an internal (temporary) error instead.
    let (status, body) = match email {
        Some(email) => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let body = serde_json::json!({
                "email": email, "email_verified": "true", "scope": "https://mail.google.com/",
                "expires_in": "3599", "exp": (now + 3599).to_string(),
                "aud": "x", "azp": "x", "active": "true",
            });
            ("200 OK", body.to_string())
        }
        None => (
            "400 Bad Request",
            r#"{"error":"invalid_token","error_description":"Invalid Value"}"#.to_owned(),
        ),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.get_mut().write_all(response.as_bytes()).await?;
    stream.get_mut().shutdown().await
}
