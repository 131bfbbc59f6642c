//! Fault injection the emulator cannot script, against an in-process fake that answers in
//! Google's shape: a `Retry-After` header, a silent server, a closed port, which endpoint a
//! message size picks and what the requests carry; refusals before any request.

use super::client;
use base64::Engine as _;
use mailgate_proto::gmail::{GmailError, MAX_MESSAGE_BYTES};
use secrecy::SecretString;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the fake received: the request head and the body.
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A one-answer Google on a local port: every request gets `answer` (status line, headers,
/// blank line, body). With `None`, it accepts and never answers.
async fn fake_google(answer: Option<String>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let (answer, log) = (answer.clone(), log.clone());
            tokio::spawn(async move {
                let Some(answer) = answer else {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    drop(socket);
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 64 * 1024];
                let (head, length) = loop {
                    let n = socket.read(&mut chunk).await.unwrap();
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                        buf.drain(..end + 4);
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap())
                            })
                            .unwrap_or(0);
                        break (head, length);
                    }
                    assert!(n > 0, "the client closed early");
                };
                while buf.len() < length {
                    let n = socket.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "the client closed mid-body");
                    buf.extend_from_slice(&chunk[..n]);
                }
                log.lock().unwrap().push((head, buf));
                socket.write_all(answer.as_bytes()).await.unwrap();
            });
        }
    });
    (base, seen)
}

/// The request line (without the version) and the Content-Type of a request head.
fn expect_request(head: &str, line: &str, content_type: &str) {
    assert!(head.starts_with(&format!("{line} HTTP/1.1\r\n")), "{head}");
    let wanted = format!("content-type: {content_type}");
    assert!(head.to_ascii_lowercase().contains(&wanted), "{head}");
}

fn google_answer(status: &str, extra_headers: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json; charset=UTF-8\r\n{extra_headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn retry_after_headers_are_read() {
    let token = SecretString::from("ya29.fake");
    let body = r#"{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","errors":[{"message":"Resource has been exhausted (e.g. check quota).","domain":"global","reason":"rateLimitExceeded"}],"status":"RESOURCE_EXHAUSTED"}}"#;
    let (base, _) = fake_google(Some(google_answer(
        "429 Too Many Requests",
        "Retry-After: 30\r\n",
        body,
    )))
    .await;
    let e = client(&base).profile(&token, "me").await.unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));

    let dated =
        "Date: Sun, 22 Nov 2026 04:00:00 GMT\r\nRetry-After: Sun, 22 Nov 2026 04:02:00 GMT\r\n";
    let body = r#"{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}"#;
    let (base, _) = fake_google(Some(google_answer("503 Service Unavailable", dated, body))).await;
    let e = client(&base)
        .send_raw(&token, "me", b"To: a@example.test\r\n\r\nx")
        .await
        .unwrap_err();
    assert!(e.is_transient(), "{e:?}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(e.diagnosis().code, "service_unavailable");
}

#[tokio::test]
async fn the_size_picks_json_or_upload_and_the_token_goes_in_the_header_only() {
    let answer = google_answer(
        "200 OK",
        "",
        r#"{"id":"18c1","threadId":"18c1","labelIds":["SENT"]}"#,
    );
    let (base, seen) = fake_google(Some(answer)).await;
    let token = SecretString::from("ya29.only-in-the-header");
    let gmail = client(&base);
    let small = b"To: a@example.test\r\nSubject: small\r\n\r\nhi\r\n".to_vec();
    let mut large = b"To: a@example.test\r\nSubject: large\r\n\r\n".to_vec();
    large.resize(3_800_000, b'x');
    for message in [&small, &large] {
        let sent = gmail.send_raw(&token, "me", message).await.unwrap();
        assert_eq!(
            (sent.id.as_str(), sent.thread_id.as_deref()),
            ("18c1", Some("18c1"))
        );
    }
    let seen = seen.lock().unwrap();
    let (head, body) = &seen[0];
    expect_request(
        head,
        "POST /gmail/v1/users/me/messages/send",
        "application/json",
    );
    let json: serde_json::Value = serde_json::from_slice(body).unwrap();
    let raw = base64::engine::general_purpose::URL_SAFE
        .decode(json["raw"].as_str().unwrap())
        .unwrap();
    assert_eq!(raw, small);
    let (head, body) = &seen[1];
    expect_request(
        head,
        "POST /upload/gmail/v1/users/me/messages/send?uploadType=media",
        "message/rfc822",
    );
    assert!(body == &large, "the upload body is the message as is");
    for (head, body) in seen.iter() {
        let head = head.to_ascii_lowercase();
        assert!(
            head.contains("authorization: bearer ya29.only-in-the-header"),
            "{head}"
        );
        assert!(!String::from_utf8_lossy(body).contains("only-in-the-header"));
    }
}

#[tokio::test]
async fn network_failures_and_refusals_before_sending() {
    let token = SecretString::from("ya29.fake");
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let e = client(&closed).profile(&token, "me").await.unwrap_err();
    assert!(
        matches!(e, GmailError::Transport(_)) && e.is_transient(),
        "{e:?}"
    );
    assert_eq!(e.diagnosis().code, "connection_refused");
    assert_eq!(e.server_reply(), None);

    let (silent, _) = fake_google(None).await;
    let gmail = client(&silent).with_timeout(Duration::from_millis(300));
    let e = gmail.profile(&token, "me").await.unwrap_err();
    assert!(e.is_timeout() && e.is_transient(), "{e:?}");
    assert_eq!(e.diagnosis().code, "connection_timeout");

    // Refused before dialing: the closed port would answer "refused" otherwise.
    let huge = vec![b'x'; MAX_MESSAGE_BYTES + 1];
    let e = client(&closed)
        .send_raw(&token, "me", &huge)
        .await
        .unwrap_err();
    assert!(
        matches!(e, GmailError::TooLarge { .. }) && e.is_permanent(),
        "{e:?}"
    );
    assert_eq!(e.diagnosis().code, "message_too_large");
    let e = client("gmail.googleapis.com")
        .profile(&token, "me")
        .await
        .unwrap_err();
    assert!(matches!(e, GmailError::BadBaseUrl { .. }), "{e:?}");
    let e = client(&closed)
        .send_raw(&token, "", b"x")
        .await
        .unwrap_err();
    assert!(matches!(e, GmailError::InvalidInput(_)), "{e:?}");
}

#[tokio::test]
async fn only_requests_that_never_reached_google_are_safe_to_send_elsewhere() {
    let token = SecretString::from("ya29.fake");
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let e = client(&closed)
        .send_raw(&token, "me", b"To: a@example.test\r\n\r\nx")
        .await
        .unwrap_err();
    assert!(
        matches!(e, GmailError::Transport(_)) && !e.may_have_been_sent(),
        "{e:?}"
    );

    // A 2xx status whose body is cut short: Google took the request.
    let cut = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"id\":\"18c".to_owned();
    let (base, seen) = fake_google(Some(cut)).await;
    let e = client(&base)
        .send_raw(&token, "me", b"To: a@example.test\r\n\r\nx")
        .await
        .unwrap_err();
    assert!(
        matches!(e, GmailError::Unanswered(_)) && e.may_have_been_sent() && e.is_transient(),
        "{e:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);

    // No answer before the timeout, the request sent.
    let (silent, _) = fake_google(None).await;
    let e = client(&silent)
        .with_timeout(Duration::from_millis(300))
        .send_raw(&token, "me", b"To: a@example.test\r\n\r\nx")
        .await
        .unwrap_err();
    assert!(e.is_timeout() && e.may_have_been_sent(), "{e:?}");
}
