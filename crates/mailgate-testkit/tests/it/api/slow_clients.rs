//! Slow and idle clients cannot hold connections (slowloris): the headers must arrive in time,
//! a whole request must complete in time, an idle connection is closed, and past the cap
//! further connections wait instead of taking file descriptors.

use mailgate_testkit::{TestConfig, spawn_app_with};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A bound that proves a mechanism (the limits below are 1-2 s), not a speed.
const CUT_WITHIN: Duration = Duration::from_secs(10);

/// Reads until the server closes the connection; what it said.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut said = Vec::new();
    let _ = stream.read_to_end(&mut said).await;
    String::from_utf8_lossy(&said).into_owned()
}

#[tokio::test]
async fn a_client_sending_its_headers_a_byte_at_a_time_is_cut_after_the_header_timeout() {
    let app = spawn_app_with(TestConfig::default().set("server.header_read_timeout_secs", 2)).await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".to_vec();
    let trickle = async {
        for byte in request.iter().chain(b"a".repeat(1000).iter()) {
            if stream.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    // 1,000 bytes at 5 a second would take over 3 minutes.
    tokio::time::timeout(CUT_WITHIN, trickle)
        .await
        .expect("the server cut the connection");
}

#[tokio::test]
async fn a_request_whose_body_never_comes_answers_408_in_the_error_contract() {
    let app = spawn_app_with(TestConfig::default().set("server.request_timeout_secs", 1)).await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let head = format!(
        "POST /api/v1/oauth-apps HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"name\":",
        app.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut said = vec![0; 4096];
    let n = tokio::time::timeout(CUT_WITHIN, stream.read(&mut said))
        .await
        .expect("an answer within the bound")
        .unwrap();
    let said = String::from_utf8_lossy(&said[..n]);
    assert!(said.starts_with("HTTP/1.1 408"), "{said}");
    assert!(said.contains("\"error\":\"request_timeout\""), "{said}");
    assert!(said.contains("application/json"), "{said}");
}

#[tokio::test]
async fn a_kept_alive_connection_with_nothing_to_do_is_closed_after_the_idle_timeout() {
    let app = spawn_app_with(
        TestConfig::default()
            .set("server.idle_timeout_secs", 1)
            .set("server.header_read_timeout_secs", 600),
    )
    .await;
    let mut stream = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let said = tokio::time::timeout(CUT_WITHIN, read_to_close(&mut stream))
        .await
        .expect("the idle connection was closed");
    assert!(said.starts_with("HTTP/1.1 200"), "{said}");
}

#[tokio::test]
async fn connections_past_the_cap_wait_until_one_closes() {
    let app = spawn_app_with(
        TestConfig::default()
            .set("server.max_connections", 2)
            .set("server.header_read_timeout_secs", 600)
            .set("server.idle_timeout_secs", 600),
    )
    .await;
    let healthz = format!("{}/healthz", app.address);
    let fresh = || reqwest::Client::builder().build().unwrap();
    assert_eq!(fresh().get(&healthz).send().await.unwrap().status(), 200);

    // Two clients that connect and say nothing take both places.
    let first = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let _second = TcpStream::connect(("127.0.0.1", app.port)).await.unwrap();
    let waiting =
        tokio::spawn(async move { fresh().get(&healthz).send().await.map(|r| r.status()) });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !waiting.is_finished(),
        "a third connection is not served while two are open"
    );

    drop(first);
    let status = tokio::time::timeout(CUT_WITHIN, waiting)
        .await
        .expect("served once a place is free")
        .unwrap()
        .unwrap();
    assert_eq!(status, 200);
}
