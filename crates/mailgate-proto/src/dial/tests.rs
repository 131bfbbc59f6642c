use super::proxy::{ConnectError, http_connect};
use super::*;
use mailgate_domain::troubleshoot::ProviderKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const GREETING: &[u8] = b"* OK [CAPABILITY IMAP4rev1] ready\r\n";

fn tls() -> Arc<rustls::ClientConfig> {
    crate::tls::client_config(None, &[]).unwrap()
}

async fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

/// Reads until the blank line that ends an HTTP request head.
async fn read_head<S: AsyncReadExt + Unpin>(s: &mut S) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

#[tokio::test]
async fn http_connect_leaves_the_greeting_that_follows_the_answer_unread() {
    let (mut client, mut server) = tokio::io::duplex(1024);
    let proxy = tokio::spawn(async move {
        let head = read_head(&mut server).await;
        // The answer and the server's greeting in one write, as a fast proxy would send them.
        let mut answer = b"HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n".to_vec();
        answer.extend_from_slice(GREETING);
        server.write_all(&answer).await.unwrap();
        head
    });
    http_connect(&mut client, "imap.example.test", 993)
        .await
        .unwrap();
    let mut greeting = vec![0u8; GREETING.len()];
    client.read_exact(&mut greeting).await.unwrap();
    assert_eq!(greeting, GREETING);
    let head = proxy.await.unwrap();
    assert_eq!(
        head,
        "CONNECT imap.example.test:993 HTTP/1.1\r\nHost: imap.example.test:993\r\n\r\n"
    );
}

#[tokio::test]
async fn http_connect_refusals_and_garbage_are_named() {
    for (answer, want) in [
        (&b"HTTP/1.1 403 Forbidden\r\n\r\n"[..], "403 Forbidden"),
        (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", "not HTTP"),
        (b"HTTP/1.1 20", "closed"),
    ] {
        let (mut client, mut server) = tokio::io::duplex(1024);
        let answer = answer.to_vec();
        tokio::spawn(async move {
            read_head(&mut server).await;
            server.write_all(&answer).await.unwrap();
        });
        let e = http_connect(&mut client, "::1", 993).await.unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
    }
    let (mut client, mut server) = tokio::io::duplex(64 * 1024);
    tokio::spawn(async move {
        read_head(&mut server).await;
        server.write_all(&[b'x'; 9000]).await.unwrap();
    });
    let e = http_connect(&mut client, "h", 1).await.unwrap_err();
    assert!(matches!(e, ConnectError::TooLong), "{e}");
}

#[tokio::test]
async fn connect_through_an_http_proxy_gives_the_servers_greeting() {
    let (proxy, proxy_port) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = proxy.accept().await.unwrap();
        let head = read_head(&mut s).await;
        assert!(head.starts_with("CONNECT mail.example.test:143 "), "{head}");
        let mut answer = b"HTTP/1.0 200 OK\r\n\r\n".to_vec();
        answer.extend_from_slice(GREETING);
        s.write_all(&answer).await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let ep = Endpoint::new("mail.example.test", 143, Security::Starttls).with_proxy(Some(
        ProxyUrl::parse("proxy", &format!("http://127.0.0.1:{proxy_port}")).unwrap(),
    ));
    let mut stream = connect(&ep, tls(), Duration::from_secs(5)).await.unwrap();
    assert!(!stream.is_tls());
    let mut greeting = vec![0u8; GREETING.len()];
    stream.read_exact(&mut greeting).await.unwrap();
    assert_eq!(greeting, GREETING);
}

/// A SOCKS5 server that accepts one client without authentication and reports the address
/// type and address it was asked for.
async fn fake_socks(proxy: TcpListener) -> (u8, Vec<u8>) {
    let (mut s, _) = proxy.accept().await.unwrap();
    let mut hello = [0u8; 2];
    s.read_exact(&mut hello).await.unwrap();
    let mut methods = vec![0u8; hello[1] as usize];
    s.read_exact(&mut methods).await.unwrap();
    assert!(methods.contains(&0));
    s.write_all(&[5, 0]).await.unwrap();
    let mut request = [0u8; 4];
    s.read_exact(&mut request).await.unwrap();
    assert_eq!(&request[..3], &[5, 1, 0]);
    let addr = match request[3] {
        1 => {
            let mut a = vec![0u8; 4];
            s.read_exact(&mut a).await.unwrap();
            a
        }
        4 => {
            let mut a = vec![0u8; 16];
            s.read_exact(&mut a).await.unwrap();
            a
        }
        3 => {
            let mut len = [0u8; 1];
            s.read_exact(&mut len).await.unwrap();
            let mut a = vec![0u8; len[0] as usize];
            s.read_exact(&mut a).await.unwrap();
            a
        }
        other => panic!("address type {other}"),
    };
    let mut port = [0u8; 2];
    s.read_exact(&mut port).await.unwrap();
    assert_eq!(u16::from_be_bytes(port), 995);
    let mut answer = vec![5, 0, 0, 1, 127, 0, 0, 1, 0, 0];
    answer.extend_from_slice(b"+OK POP3 ready\r\n");
    s.write_all(&answer).await.unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        drop(s);
    });
    (request[3], addr)
}

#[tokio::test]
async fn socks5h_sends_the_name_and_socks5_resolves_it_here() {
    for (scheme, want_type) in [("socks5h", 3u8), ("socks5", 1u8)] {
        let (proxy, proxy_port) = listener().await;
        let server = tokio::spawn(fake_socks(proxy));
        // `localhost` resolves here to 127.0.0.1 (or ::1, type 4).
        let ep = Endpoint::new("localhost", 995, Security::None).with_proxy(Some(
            ProxyUrl::parse("proxy", &format!("{scheme}://127.0.0.1:{proxy_port}")).unwrap(),
        ));
        let mut stream = connect(&ep, tls(), Duration::from_secs(5)).await.unwrap();
        let mut greeting = [0u8; 16];
        stream.read_exact(&mut greeting).await.unwrap();
        assert_eq!(&greeting, b"+OK POP3 ready\r\n");
        let (address_type, addr) = server.await.unwrap();
        if want_type == 3 {
            assert_eq!((address_type, addr.as_slice()), (3, &b"localhost"[..]));
        } else {
            assert!(matches!(address_type, 1 | 4), "{address_type}");
        }
    }
}

#[tokio::test]
async fn refused_ports_dead_proxies_and_wrong_security_say_so() {
    let (closed, port) = listener().await;
    drop(closed);
    let ep = Endpoint::new("127.0.0.1", port, Security::Ssl);
    let e = connect(&ep, tls(), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(e, ProtoError::Connect { .. }), "{e}");
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "connection_refused"
    );
    assert!(e.is_transient());

    let ep = Endpoint::new("imap.example.test", 993, Security::Ssl).with_proxy(Some(
        ProxyUrl::parse("proxy", &format!("socks5h://127.0.0.1:{port}")).unwrap(),
    ));
    let e = connect(&ep, tls(), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(e, ProtoError::Proxy { .. }), "{e}");
    assert_eq!(e.diagnosis(ProviderKind::Generic).code, "proxy_failed");

    // `ssl` on a port that speaks plain text: the handshake fails, named as TLS.
    let (plain, port) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = plain.accept().await.unwrap();
        s.write_all(GREETING).await.unwrap();
        let mut sink = [0u8; 1024];
        let _ = s.read(&mut sink).await;
    });
    let ep = Endpoint::new("127.0.0.1", port, Security::Ssl);
    let e = connect(&ep, tls(), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(e, ProtoError::Tls { .. }), "{e}");
    assert_eq!(
        e.diagnosis(ProviderKind::Generic).code,
        "tls_handshake_failed"
    );
    assert!(e.is_permanent());

    // A port that accepts and never speaks TLS: a timeout naming the handshake.
    let (silent, port) = listener().await;
    tokio::spawn(async move {
        let (_s, _) = silent.accept().await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let ep = Endpoint::new("127.0.0.1", port, Security::Ssl);
    let e = connect(&ep, tls(), Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert!(e.to_string().contains("TLS handshake"), "{e}");
}

/// Whether the TCP socket under `stream` sends small writes at once (Nagle's algorithm off).
fn nodelay(stream: &MailStream) -> bool {
    let tcp = match stream {
        MailStream::Plain(tcp) => tcp,
        MailStream::Tls(tls) => tls.get_ref().0,
    };
    tcp.nodelay().unwrap()
}

#[tokio::test]
async fn every_dial_path_turns_nagle_off() {
    // Direct, for each security (implicit TLS and STARTTLS upgrade this same socket).
    for security in [Security::None, Security::Starttls, Security::Ssl] {
        let (server, port) = listener().await;
        tokio::spawn(async move { server.accept().await });
        let ep = Endpoint::new("127.0.0.1", port, security);
        let stream = connect_tcp(&ep, Duration::from_secs(5)).await.unwrap();
        assert!(nodelay(&stream), "{security:?}");
    }
    // Through an HTTP proxy and a SOCKS5 proxy.
    let (proxy, proxy_port) = listener().await;
    tokio::spawn(async move {
        let (mut s, _) = proxy.accept().await.unwrap();
        read_head(&mut s).await;
        s.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
    });
    let ep = Endpoint::new("mail.example.test", 587, Security::Starttls).with_proxy(Some(
        ProxyUrl::parse("proxy", &format!("http://127.0.0.1:{proxy_port}")).unwrap(),
    ));
    let stream = connect(&ep, tls(), Duration::from_secs(5)).await.unwrap();
    assert!(nodelay(&stream), "HTTP proxy");
    let (proxy, proxy_port) = listener().await;
    tokio::spawn(fake_socks(proxy));
    let ep = Endpoint::new("localhost", 995, Security::None).with_proxy(Some(
        ProxyUrl::parse("proxy", &format!("socks5h://127.0.0.1:{proxy_port}")).unwrap(),
    ));
    let stream = connect(&ep, tls(), Duration::from_secs(5)).await.unwrap();
    assert!(nodelay(&stream), "SOCKS5 proxy");
}
