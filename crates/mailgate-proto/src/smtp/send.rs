//! One mail transaction: `MAIL FROM`, a `RCPT TO` per recipient, `DATA`, the message, and the
//! reply that queues it. With PIPELINING the commands up to DATA go out together and the
//! replies are read in order (RFC 2920).

use super::data::{self, Body};
use super::{SmtpClient, SmtpReply};
use crate::error::ProtoError;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};

/// Who a message is from and to, as the server sees it (not the headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The reverse-path; `""` for the null sender (bounces).
    pub from: String,
    pub recipients: Vec<String>,
}

impl Envelope {
    pub fn new(
        from: impl Into<String>,
        recipients: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            from: from.into(),
            recipients: recipients.into_iter().map(Into::into).collect(),
        }
    }
}

/// What became of a message the server queued.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub accepted: Vec<String>,
    /// The recipients the server refused for good (5xx), with its reply to each `RCPT TO`.
    pub rejected: Vec<(String, SmtpReply)>,
    /// The recipients the server refused for now (4xx, e.g. `450 4.2.2 Mailbox full`), with
    /// its reply: send them the message again later.
    pub deferred: Vec<(String, SmtpReply)>,
    /// The reply to the end of the data (`250 2.0.0 Ok: queued as 4F1D2`).
    pub reply: SmtpReply,
}

/// The message is written in chunks of about this size.
const CHUNK: usize = 64 * 1024;

/// The replies up to DATA; `None` for commands not sent.
struct Replies {
    mail: SmtpReply,
    rcpts: Vec<SmtpReply>,
    data: Option<SmtpReply>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> SmtpClient<S> {
    /// Sends `message` (RFC 5322 bytes; any line ends) to the envelope's recipients.
    ///
    /// Recipients the server refuses are reported in [`Delivery::rejected`] (5xx) or
    /// [`Delivery::deferred`] (4xx) and the others still get the message; when it refuses them
    /// all, the transaction is reset and the error is the first passing refusal (retrying may
    /// reach those recipients), else the first refusal. Every refusal is [`ProtoError::Rejected`] naming the command
    /// (4xx transient, 5xx permanent) and leaves the connection usable, except a 421.
    /// Refused before anything is sent: an address with a line break, a space or `<>`
    /// ([`ProtoError::InvalidInput`]), a non-ASCII address the server cannot take (no
    /// SMTPUTF8), a message over the server's SIZE ([`ProtoError::TooLarge`]).
    pub async fn send(
        &mut self,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<Delivery, ProtoError> {
        if !self.is_usable() {
            return Err(ProtoError::Unusable);
        }
        let mail = self.mail_command(envelope, message)?;
        self.message_sent = false;
        self.run(async |c| c.transaction(envelope, &mail, message).await)
            .await
    }

    /// `MAIL FROM:<from>` with its parameters, after checking the envelope and the size.
    fn mail_command(&self, envelope: &Envelope, message: &[u8]) -> Result<String, ProtoError> {
        check_address("sender", &envelope.from, true)?;
        if envelope.recipients.is_empty() {
            return Err(ProtoError::InvalidInput(
                "a message without recipients".into(),
            ));
        }
        for r in &envelope.recipients {
            check_address("recipient", r, false)?;
        }
        let mut mail = format!("MAIL FROM:<{}>", envelope.from);
        let size = data::wire_size(message);
        if let Some(max) = self.max_size() {
            if size > max {
                return Err(ProtoError::TooLarge {
                    id: format!("for {}", self.peer.host),
                    size: Some(size),
                    max,
                });
            }
            mail.push_str(&format!(" SIZE={size}"));
        }
        if data::is_8bit(message) && self.has_capability("8BITMIME") {
            mail.push_str(" BODY=8BITMIME");
        }
        let addresses = std::iter::once(&envelope.from).chain(&envelope.recipients);
        if addresses.clone().any(|a| !a.is_ascii()) {
            if !self.has_capability("SMTPUTF8") {
                let first = addresses.into_iter().find(|a| !a.is_ascii());
                return Err(ProtoError::InvalidInput(format!(
                    "the address {:?} is not ASCII and the server does not offer SMTPUTF8",
                    first.map(String::as_str).unwrap_or_default()
                )));
            }
            mail.push_str(" SMTPUTF8");
        }
        Ok(mail)
    }

    async fn transaction(
        &mut self,
        envelope: &Envelope,
        mail: &str,
        message: &[u8],
    ) -> Result<Delivery, ProtoError> {
        let rcpts: Vec<String> = envelope
            .recipients
            .iter()
            .map(|r| format!("RCPT TO:<{r}>"))
            .collect();
        let replies = if self.has_capability("PIPELINING") {
            self.pipelined(mail, &rcpts).await?
        } else {
            self.one_by_one(mail, &rcpts).await?
        };
        if !replies.mail.is_positive() {
            let e = self.reply_error(replies.mail, 2, "MAIL FROM");
            return self.abandon(replies.data, e).await;
        }
        let mut accepted = Vec::new();
        let mut rejected = Vec::new();
        let mut deferred = Vec::new();
        for ((address, command), reply) in envelope.recipients.iter().zip(&rcpts).zip(replies.rcpts)
        {
            if reply.is_positive() {
                accepted.push(address.clone());
            } else if reply.is_transient() {
                deferred.push((address.clone(), command, reply));
            } else if reply.is_permanent() {
                rejected.push((address.clone(), command, reply));
            } else {
                let e = self.reply_error(reply, 2, command);
                return Err(e);
            }
        }
        if accepted.is_empty()
            && let Some((_, command, reply)) = deferred.first().or(rejected.first())
        {
            let e = self.reply_error(reply.clone(), 2, command);
            return self.abandon(replies.data, e).await;
        }
        let data = match replies.data {
            Some(reply) => reply,
            None => self.exchange("DATA", "DATA").await?,
        };
        if data.code != 354 {
            let e = self.reply_error(data, 3, "DATA");
            return self.abandon(None, e).await;
        }
        // From here the server may take the message even if we never read its answer.
        self.message_sent = true;
        self.write_body(message).await?;
        let end = self.read_reply("the answer to the end of DATA").await?;
        let reply = self.expect(end, 2, "the end of DATA")?;
        Ok(Delivery {
            accepted,
            rejected: rejected.into_iter().map(|(a, _, r)| (a, r)).collect(),
            deferred: deferred.into_iter().map(|(a, _, r)| (a, r)).collect(),
            reply,
        })
    }

    /// Whether the last [`send`](Self::send) wrote the message: when it then failed (the
    /// connection broke before the answer to the end of the data), the server may have
    /// queued it, and sending it again may deliver it twice (RFC 1047). False when it failed
    /// before the message went out: sending again is safe.
    pub fn message_sent(&self) -> bool {
        self.message_sent
    }

    /// MAIL, every RCPT and DATA in one write, then their replies in order. A 421 stops the
    /// reading: the server is closing.
    async fn pipelined(&mut self, mail: &str, rcpts: &[String]) -> Result<Replies, ProtoError> {
        let mut batch = String::from(mail);
        for rcpt in rcpts {
            batch.push_str("\r\n");
            batch.push_str(rcpt);
        }
        batch.push_str("\r\nDATA");
        self.send_line(&batch, "the answer to MAIL FROM").await?;
        let mail = self.reply_to("MAIL FROM").await?;
        let mut replies = Vec::with_capacity(rcpts.len());
        for rcpt in rcpts {
            replies.push(self.reply_to(rcpt).await?);
        }
        let data = self.reply_to("DATA").await?;
        Ok(Replies {
            mail,
            rcpts: replies,
            data: Some(data),
        })
    }

    /// MAIL, then each RCPT, waiting for each reply; DATA is left to the caller, and nothing
    /// more is sent once MAIL is refused.
    async fn one_by_one(&mut self, mail: &str, rcpts: &[String]) -> Result<Replies, ProtoError> {
        let mail_reply = self.exchange(mail, "MAIL FROM").await?;
        self.stop_on_421(&mail_reply, "MAIL FROM")?;
        let mut replies = Vec::with_capacity(rcpts.len());
        if mail_reply.is_positive() {
            for rcpt in rcpts {
                let reply = self.exchange(rcpt, rcpt).await?;
                self.stop_on_421(&reply, rcpt)?;
                replies.push(reply);
            }
        }
        Ok(Replies {
            mail: mail_reply,
            rcpts: replies,
            data: None,
        })
    }

    /// The next reply, naming `command` in errors; a 421 is an error at once.
    async fn reply_to(&mut self, command: &str) -> Result<SmtpReply, ProtoError> {
        let reply = self.read_reply(&format!("the answer to {command}")).await?;
        self.stop_on_421(&reply, command)?;
        Ok(reply)
    }

    fn stop_on_421(&mut self, reply: &SmtpReply, command: &str) -> Result<(), ProtoError> {
        if reply.code == 421 {
            return Err(self.refused(command, reply));
        }
        Ok(())
    }

    /// The error for a reply that is not of class `want`.
    fn reply_error(&mut self, reply: SmtpReply, want: u16, command: &str) -> ProtoError {
        match self.expect(reply, want, command) {
            Err(e) => e,
            Ok(reply) => self.peer.protocol_error(
                format!("an unexpected reply to {command}"),
                reply.to_string().as_bytes(),
            ),
        }
    }

    /// Ends a failed transaction so the connection can send again: a DATA the server accepted
    /// anyway gets an empty message (`.` alone, RFC 2920 section 3.1), then RSET. Returns
    /// `error` whatever happens; a clean-up that fails leaves the client unusable.
    async fn abandon<T>(
        &mut self,
        data: Option<SmtpReply>,
        error: ProtoError,
    ) -> Result<T, ProtoError> {
        if self.broken || !matches!(error, ProtoError::Rejected { .. }) {
            return Err(error);
        }
        let mut clean = true;
        if data.is_some_and(|d| d.code == 354) {
            let end = self.exchange(".", "the end of DATA").await;
            clean = end.is_ok_and(|r| r.code != 421);
        }
        clean = clean
            && self
                .exchange("RSET", "RSET")
                .await
                .is_ok_and(|r| r.is_positive());
        if !clean {
            self.broken = true;
        }
        Err(error)
    }

    /// The message after `354`, dot-stuffed with CRLF line ends, chunk by chunk, then `.`.
    async fn write_body(&mut self, message: &[u8]) -> Result<(), ProtoError> {
        let mut body = Body::new(message);
        let mut buf = Vec::with_capacity(CHUNK + 1024);
        while let Some(chunk) = body.next_chunk(&mut buf, CHUNK) {
            self.io
                .send_raw(chunk)
                .await
                .map_err(|e| self.peer.io("the server to read the message", e))?;
        }
        Ok(())
    }
}

/// An address goes between `<>` on a command line: nothing that could end the line, close the
/// brackets or start a parameter. Only the sender may be empty (the null reverse-path).
fn check_address(role: &str, address: &str, may_be_empty: bool) -> Result<(), ProtoError> {
    let bad = address
        .chars()
        .find(|&c| c.is_control() || c.is_whitespace() || c == '<' || c == '>');
    if let Some(c) = bad {
        return Err(ProtoError::InvalidInput(format!(
            "the {role} address {address:?} contains {c:?}"
        )));
    }
    if address.is_empty() && !may_be_empty {
        return Err(ProtoError::InvalidInput(format!("an empty {role} address")));
    }
    Ok(())
}
