//! Realistic mail for benchmarks and tests that need volume: a deterministic mix of sizes.

use crate::world;
use std::time::Duration;

/// Message `n` of a deterministic mix: 90% small text (2-8 KB), 8% with a 100 KB attachment,
/// 2% with a 2 MB one.
pub fn message(to: &str, n: usize) -> String {
    let body_len = 2_000 + (n * 7919) % 6_000;
    let text: String = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. "
        .chars()
        .cycle()
        .take(body_len)
        .collect();
    let attachment = match n % 50 {
        0 => 2_000_000,
        k if k % 12 == 1 => 100_000,
        _ => 0,
    };
    let mut m = format!(
        "From: Customer {n} <customer{n}@example.com>\r\nTo: {to}\r\nSubject: Benchmark message {n}\r\nMessage-ID: <bench-{n}-{}@customer.example>\r\nMIME-Version: 1.0\r\n",
        uuid::Uuid::new_v4()
    );
    if attachment == 0 {
        m.push_str(&format!(
            "Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        ));
    } else {
        let raw: Vec<u8> = (0..attachment).map(|i| (i * 31 % 251) as u8).collect();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::STANDARD.encode(raw);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        m.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n{text}\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"data-{n}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
            lines.join("\r\n")
        ));
    }
    m
}

/// Delivers messages `0..count` of the mix to `user` through the stack's SMTP port (eight at a
/// time) and waits until its INBOX holds them all. Returns their bytes.
pub async fn fill(user: &str, count: usize) -> usize {
    let w = world();
    let mut bytes = 0;
    let mut tasks = Vec::new();
    for chunk in (0..count)
        .collect::<Vec<_>>()
        .chunks(count.div_ceil(8).max(1))
    {
        let (user, chunk) = (user.to_owned(), chunk.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut b = 0;
            for n in chunk {
                let m = message(&user, n);
                b += m.len();
                world().deliver("customer@example.com", &user, &m).await;
            }
            b
        }));
    }
    for t in tasks {
        bytes += t.await.unwrap();
    }
    while w.inbox_count(user, None).await < count {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bytes
}
