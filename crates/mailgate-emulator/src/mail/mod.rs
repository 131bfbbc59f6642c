//! Mail handling behind `messages.send`: message parsing, envelope rewriting and SMTP delivery.

pub mod message;
pub mod smtp;

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;

/// Envelope recipients: addresses outside `local_domain` go to `catchall` when one is set (as the
/// test mail stack does for outside domains), duplicates removed.
pub fn envelope_recipients(
    recipients: &[String],
    local_domain: &str,
    catchall: Option<&str>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for rcpt in recipients {
        let local = rcpt
            .rsplit_once('@')
            .is_some_and(|(_, domain)| domain.eq_ignore_ascii_case(local_domain));
        let target = match catchall {
            Some(catchall) if !local => catchall.to_owned(),
            _ => rcpt.clone(),
        };
        if !out.iter().any(|o| o.eq_ignore_ascii_case(&target)) {
            out.push(target);
        }
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the SMTP relay {relay} did not answer within {timeout:?}")]
    Timeout {
        relay: SocketAddr,
        timeout: Duration,
    },
    #[error("cannot connect to the SMTP relay {relay}: {source}")]
    Connect {
        relay: SocketAddr,
        source: std::io::Error,
    },
    #[error("the SMTP relay {relay} refused the message: {source}")]
    Smtp {
        relay: SocketAddr,
        source: smtp::SmtpError,
    },
}

impl DeliveryError {
    /// Whether Gmail would call this a temporary condition (503) rather than an error (500).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Timeout { .. } | Self::Connect { .. } => true,
            Self::Smtp { source, .. } => source.is_transient(),
        }
    }
}

/// Delivers one message to the relay within `timeout`; returns the refused recipients, if some
/// were refused and others accepted.
pub async fn deliver(
    relay: SocketAddr,
    timeout: Duration,
    from: &str,
    to: &[String],
    message: &[u8],
) -> Result<smtp::Refusals, DeliveryError> {
    let attempt = async {
        let stream = TcpStream::connect(relay)
            .await
            .map_err(|source| DeliveryError::Connect { relay, source })?;
        smtp::send(stream, "gmail-emulator.localhost", from, to, message)
            .await
            .map_err(|source| DeliveryError::Smtp { relay, source })
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or(Err(DeliveryError::Timeout { relay, timeout }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_recipients_go_to_the_catchall_once() {
        let rcpts: Vec<String> = [
            "a@example.test",
            "x@gmail.com",
            "y@other.test",
            "B@Example.Test",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        assert_eq!(
            envelope_recipients(&rcpts, "example.test", Some("catchall@example.test")),
            ["a@example.test", "catchall@example.test", "B@Example.Test"]
        );
        assert_eq!(envelope_recipients(&rcpts, "example.test", None), rcpts);
    }
}
