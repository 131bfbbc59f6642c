//! A minimal SMTP client for handing a message to the local relay: plain SMTP, no auth, no TLS
//! (the relay is Postfix's inbound port on 127.0.0.1). Generic over the byte stream so tests can
//! drive it over `tokio::io::duplex`.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("SMTP I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("the SMTP server closed the connection")]
    Closed,
    #[error("malformed SMTP reply: {0:?}")]
    Malformed(String),
    #[error("{command} refused: {code} {text}")]
    Rejected {
        command: &'static str,
        code: u16,
        text: String,
    },
    #[error("every recipient was refused: {0:?}")]
    NoRecipientAccepted(Vec<(String, u16, String)>),
}

impl SmtpError {
    /// Whether trying again later may succeed (4xx replies, connection trouble).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Io(_) | Self::Closed => true,
            Self::Rejected { code, .. } => (400..500).contains(code),
            Self::NoRecipientAccepted(refusals) => refusals
                .iter()
                .all(|(_, code, _)| (400..500).contains(code)),
            Self::Malformed(_) => false,
        }
    }
}

/// Recipients the server refused with their reply, when others were accepted.
pub type Refusals = Vec<(String, u16, String)>;

/// Runs one transaction: greeting, EHLO, MAIL FROM, RCPT TO each, DATA, QUIT.
pub async fn send<S>(
    stream: S,
    helo: &str,
    from: &str,
    to: &[String],
    message: &[u8],
) -> Result<Refusals, SmtpError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut conn = BufReader::new(stream);
    expect(&mut conn, "greeting", 220).await?;
    let ehlo = command(&mut conn, &format!("EHLO {helo}"), "EHLO", 250).await?;
    let eight_bit = ehlo
        .lines()
        .any(|l| l.trim().eq_ignore_ascii_case("8BITMIME"));
    let body_param = if eight_bit && !message.is_ascii() {
        " BODY=8BITMIME"
    } else {
        ""
    };
    command(
        &mut conn,
        &format!("MAIL FROM:<{from}>{body_param}"),
        "MAIL FROM",
        250,
    )
    .await?;
    let mut refusals = Vec::new();
    for rcpt in to {
        write_line(&mut conn, &format!("RCPT TO:<{rcpt}>")).await?;
        let (code, text) = read_reply(&mut conn).await?;
        if code != 250 && code != 251 {
            refusals.push((rcpt.clone(), code, text));
        }
    }
    if refusals.len() == to.len() {
        // Leave politely; the refusals are the error worth reporting.
        let _ = write_line(&mut conn, "QUIT").await;
        return Err(SmtpError::NoRecipientAccepted(refusals));
    }
    command(&mut conn, "DATA", "DATA", 354).await?;
    conn.get_mut().write_all(&dot_stuff(message)).await?;
    conn.get_mut().flush().await?;
    expect(&mut conn, "end of DATA", 250).await?;
    // The message is accepted; a failing QUIT does not change that.
    let _ = command(&mut conn, "QUIT", "QUIT", 221).await;
    Ok(refusals)
}

/// CRLF line endings, a leading '.' doubled on every line, terminated by `.` on its own line.
pub fn dot_stuff(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 16);
    let body = message.strip_suffix(b"\n").unwrap_or(message);
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    for line in body.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first() == Some(&b'.') {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

async fn command<S>(
    conn: &mut BufReader<S>,
    line: &str,
    name: &'static str,
    want: u16,
) -> Result<String, SmtpError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    write_line(conn, line).await?;
    expect(conn, name, want).await
}

async fn expect<S>(
    conn: &mut BufReader<S>,
    name: &'static str,
    want: u16,
) -> Result<String, SmtpError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (code, text) = read_reply(conn).await?;
    if code == want {
        Ok(text)
    } else {
        Err(SmtpError::Rejected {
            command: name,
            code,
            text,
        })
    }
}

async fn write_line<S>(conn: &mut BufReader<S>, line: &str) -> Result<(), SmtpError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let stream = conn.get_mut();
    stream.write_all(line.as_bytes()).await?;
    stream.write_all(b"\r\n").await?;
    stream.flush().await?;
    Ok(())
}

/// A possibly multi-line reply (`250-...` lines, then `250 ...`): code and the joined text.
async fn read_reply<S>(conn: &mut BufReader<S>) -> Result<(u16, String), SmtpError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut text = String::new();
    loop {
        let mut line = String::new();
        if conn.read_line(&mut line).await? == 0 {
            return Err(SmtpError::Closed);
        }
        let line = line.trim_end();
        let code = line
            .get(..3)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| SmtpError::Malformed(line.to_owned()))?;
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(line.get(4..).unwrap_or_default());
        match line.as_bytes().get(3) {
            Some(b'-') => continue,
            Some(b' ') | None => return Ok((code, text)),
            Some(_) => return Err(SmtpError::Malformed(line.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, duplex};

    #[test]
    fn dot_stuffing_and_line_endings() {
        assert_eq!(dot_stuff(b"a\n.b\r\n..c\n"), b"a\r\n..b\r\n...c\r\n.\r\n");
        assert_eq!(dot_stuff(b"no newline"), b"no newline\r\n.\r\n");
    }

    /// Plays the server side from a script and records what the client wrote.
    async fn run_against(
        script: &'static [u8],
        to: &[&str],
    ) -> (Result<Refusals, SmtpError>, String) {
        let (client, mut server) = duplex(64 * 1024);
        let to: Vec<String> = to.iter().map(|s| (*s).to_owned()).collect();
        let client_task = tokio::spawn(async move {
            send(
                client,
                "emulator",
                "me@example.test",
                &to,
                b"Subject: x\r\n\r\n.dot\r\n",
            )
            .await
        });
        server.write_all(script).await.expect("script");
        let result = client_task.await.expect("join");
        let mut written = Vec::new();
        // The client is done: whatever it wrote is buffered in the duplex.
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            server.read_to_end(&mut written),
        )
        .await;
        (result, String::from_utf8_lossy(&written).into_owned())
    }

    #[tokio::test]
    async fn a_full_transaction_with_one_refused_recipient() {
        let script = b"220 hi\r\n250-relay\r\n250 8BITMIME\r\n250 ok\r\n250 ok\r\n550 no such user\r\n354 go\r\n250 queued\r\n221 bye\r\n";
        let (result, written) = run_against(script, &["a@example.test", "b@example.test"]).await;
        let refusals = result.expect("sent");
        assert_eq!(
            refusals,
            [("b@example.test".to_owned(), 550, "no such user".to_owned())]
        );
        assert!(written.starts_with(
            "EHLO emulator\r\nMAIL FROM:<me@example.test>\r\nRCPT TO:<a@example.test>\r\n"
        ));
        assert!(written.contains("DATA\r\nSubject: x\r\n\r\n..dot\r\n.\r\nQUIT\r\n"));
    }

    #[tokio::test]
    async fn all_recipients_refused_is_an_error() {
        let script = b"220 hi\r\n250 relay\r\n250 ok\r\n454 try later\r\n221 bye\r\n";
        let (result, _) = run_against(script, &["a@example.test"]).await;
        let error = result.expect_err("refused");
        assert!(matches!(error, SmtpError::NoRecipientAccepted(_)));
        assert!(error.is_transient());
    }

    #[tokio::test]
    async fn a_refused_sender_is_permanent() {
        let script = b"220 hi\r\n250 relay\r\n553 sender refused\r\n";
        let (result, _) = run_against(script, &["a@example.test"]).await;
        let error = result.expect_err("refused");
        assert!(matches!(
            error,
            SmtpError::Rejected {
                command: "MAIL FROM",
                code: 553,
                ..
            }
        ));
        assert!(!error.is_transient());
    }
}
