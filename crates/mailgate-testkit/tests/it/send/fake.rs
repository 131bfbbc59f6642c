//! An in-process SMTP server for fault injection: it answers the end of each message's data
//! with the next scripted reply, and records what it received.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[derive(Default)]
pub struct Script {
    /// Replies to the end of data, in order; `250 2.0.0 Ok` once they run out. `DROP` closes
    /// the connection instead of answering (the message was received).
    pub replies: VecDeque<String>,
    /// Every message's data as received.
    pub messages: Vec<String>,
    /// The recipients the server accepted for each message.
    pub envelopes: Vec<Vec<String>>,
    /// Replies to `RCPT TO` of an address, each used once; `250 2.1.5 Ok` otherwise.
    pub rcpt_replies: Vec<(String, String)>,
    /// Connections opened.
    pub connections: usize,
    /// Extra EHLO keywords (e.g. `AUTH OAUTHBEARER`).
    pub extensions: Vec<String>,
    /// The AUTH commands received (mechanism and initial response).
    pub auth: Vec<String>,
    /// When set, AUTH is refused the way Gmail refuses a token: this JSON in a `334`
    /// challenge, then `535 5.7.8`.
    pub auth_challenge: Option<String>,
}

pub struct FakeSmtp {
    pub port: u16,
    pub script: Arc<Mutex<Script>>,
}

impl FakeSmtp {
    pub async fn start(replies: &[&str]) -> FakeSmtp {
        Self::start_with(replies, &[]).await
    }

    /// A server that also offers `extensions` in its EHLO answer and accepts any AUTH.
    pub async fn start_with(replies: &[&str], extensions: &[&str]) -> FakeSmtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let script = Arc::new(Mutex::new(Script {
            replies: replies.iter().map(|r| (*r).to_owned()).collect(),
            extensions: extensions.iter().map(|e| (*e).to_owned()).collect(),
            ..Script::default()
        }));
        let shared = script.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.lock().unwrap().connections += 1;
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        FakeSmtp { port, script }
    }

    /// Scripts the next reply to `RCPT TO:<address>`.
    pub fn refuse_rcpt(&self, address: &str, reply: &str) {
        let mut s = self.script.lock().unwrap();
        s.rcpt_replies.push((address.to_owned(), reply.to_owned()));
    }

    pub fn envelopes(&self) -> Vec<Vec<String>> {
        self.script.lock().unwrap().envelopes.clone()
    }

    pub fn received(&self) -> Vec<String> {
        self.script.lock().unwrap().messages.clone()
    }
}

async fn serve(stream: tokio::net::TcpStream, script: Arc<Mutex<Script>>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let _ = write.write_all(b"220 fake.test ESMTP\r\n").await;
    let mut line = String::new();
    let mut recipients = Vec::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
        let reply = match verb.as_str() {
            "EHLO" => {
                let mut lines = vec!["fake.test".to_owned(), "PIPELINING".to_owned()];
                lines.extend(script.lock().unwrap().extensions.iter().cloned());
                lines.push("8BITMIME".to_owned());
                let last = lines.len() - 1;
                lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| format!("250{}{l}", if i == last { ' ' } else { '-' }))
                    .collect::<Vec<_>>()
                    .join("\r\n")
            }
            "AUTH" => {
                let challenge = {
                    let mut s = script.lock().unwrap();
                    s.auth.push(line.trim_end().to_owned());
                    s.auth_challenge.clone()
                };
                match challenge {
                    Some(json) => {
                        use base64::Engine;
                        let encoded = base64::engine::general_purpose::STANDARD.encode(json);
                        let _ = write
                            .write_all(format!("334 {encoded}\r\n").as_bytes())
                            .await;
                        line.clear();
                        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        "535-5.7.8 Username and Password not accepted. For more information, go to\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials fake".to_owned()
                    }
                    None => "235 2.7.0 Authentication successful".to_owned(),
                }
            }
            "RCPT" => {
                let address = line
                    .split_once('<')
                    .and_then(|(_, rest)| rest.split_once('>'))
                    .map(|(a, _)| a.to_owned())
                    .unwrap_or_default();
                let mut s = script.lock().unwrap();
                match s.rcpt_replies.iter().position(|(a, _)| *a == address) {
                    Some(i) => s.rcpt_replies.remove(i).1,
                    None => {
                        recipients.push(address);
                        "250 2.1.5 Ok".to_owned()
                    }
                }
            }
            "MAIL" | "RSET" => {
                recipients.clear();
                "250 2.0.0 Ok".to_owned()
            }
            "HELO" | "NOOP" => "250 2.0.0 Ok".to_owned(),
            "DATA" if recipients.is_empty() => "554 5.5.1 Error: no valid recipients".to_owned(),
            "DATA" => {
                let _ = write.write_all(b"354 go ahead\r\n").await;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(&line);
                }
                let mut s = script.lock().unwrap();
                s.messages.push(data);
                s.envelopes.push(std::mem::take(&mut recipients));
                let reply = s
                    .replies
                    .pop_front()
                    .unwrap_or_else(|| "250 2.0.0 Ok: queued".to_owned());
                if reply == "DROP" {
                    return;
                }
                reply
            }
            "QUIT" => {
                let _ = write.write_all(b"221 bye\r\n").await;
                return;
            }
            _ => "502 5.5.2 unknown command".to_owned(),
        };
        if write
            .write_all(format!("{reply}\r\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
}

/// A port nothing listens on.
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

/// A Gmail API that reads each request whole, then answers `200 OK` with a body cut short and
/// closes: the request went out, its outcome is unknown. Returns its base URL and the number of
/// requests it received.
pub async fn google_cutting_answers() -> (String, Arc<Mutex<usize>>) {
    google_answering(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"id\":\"18c",
    )
    .await
}

/// A Gmail API that reads each request whole, then writes `answer` and closes. Returns its base
/// URL and the number of requests it received.
pub async fn google_answering(answer: &'static [u8]) -> (String, Arc<Mutex<usize>>) {
    use tokio::io::AsyncReadExt;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(0));
    let count = requests.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let count = count.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 64 * 1024];
                let (end, length) = loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (end + 4, length);
                    }
                };
                while buf.len() < end + length {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                *count.lock().unwrap() += 1;
                let _ = socket.write_all(answer).await;
            });
        }
    });
    (base, requests)
}
