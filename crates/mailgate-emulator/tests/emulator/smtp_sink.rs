//! A tiny SMTP server standing in for the local Postfix: records the envelope and the data of
//! every message, and can be told to refuse the sender.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Default)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message after dot-unstuffing, CRLF line endings.
    pub data: String,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_with(None).await
    }

    /// A sink that answers MAIL FROM with `reply` (e.g. `"554 5.7.1 rejected"`).
    pub async fn refusing_sender(reply: &'static str) -> Self {
        Self::start_with(Some(reply)).await
    }

    async fn start_with(mail_from_reply: Option<&'static str>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sink");
        let addr = listener.local_addr().expect("sink addr");
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = Arc::clone(&received);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let _ = session(stream, store, mail_from_reply).await;
                });
            }
        });
        Self { addr, received }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("sink lock").clone()
    }
}

async fn session(
    stream: TcpStream,
    store: Arc<Mutex<Vec<Received>>>,
    mail_from_reply: Option<&'static str>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut current = Received::default();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") {
            "250-sink\r\n250 8BITMIME".into()
        } else if upper.starts_with("MAIL FROM:") {
            match mail_from_reply {
                Some(refusal) => refusal.into(),
                None => {
                    current = Received {
                        mail_from: angle(&command),
                        ..Received::default()
                    };
                    "250 ok".into()
                }
            }
        } else if upper.starts_with("RCPT TO:") {
            current.rcpt_to.push(angle(&command));
            "250 ok".into()
        } else if upper == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            let mut data = String::new();
            loop {
                let mut data_line = String::new();
                if lines.read_line(&mut data_line).await? == 0 {
                    return Ok(());
                }
                if data_line == ".\r\n" {
                    break;
                }
                data.push_str(data_line.strip_prefix('.').unwrap_or(&data_line));
            }
            current.data = data;
            store
                .lock()
                .expect("sink lock")
                .push(std::mem::take(&mut current));
            "250 queued".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else {
            "502 unknown".into()
        };
        write.write_all(format!("{reply}\r\n").as_bytes()).await?;
    }
}

fn angle(command: &str) -> String {
    match (command.find('<'), command.find('>')) {
        (Some(open), Some(close)) if open < close => command[open + 1..close].to_owned(),
        _ => String::new(),
    }
}
