//! The TLS upgrade after STARTTLS / STLS, shared by the SMTP, POP3 and IMAP (before login)
//! clients once the server accepted the command.

use crate::dial::{Timed, TlsUpgrade};
use crate::error::{Peer, ProtoError};
use crate::lines::LineReader;
use std::sync::Arc;
use std::time::Duration;

/// Runs the TLS handshake for `peer`'s host over the stream under `io`, and reads on from the
/// TLS stream with a new, empty buffer. Bytes the server sent after `accepted` (its `220` to
/// STARTTLS, `+OK` to STLS) and before the handshake are refused: they would otherwise count
/// as protected (the STARTTLS injection of CVE-2011-0411).
pub(crate) async fn upgrade<S: TlsUpgrade>(
    io: LineReader<Timed<S>>,
    peer: &Peer,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    accepted: &str,
) -> Result<LineReader<Timed<S>>, ProtoError> {
    let (timed, rest) = io.into_parts();
    if !rest.is_empty() {
        return Err(peer.protocol_error(
            format!(
                "data after {accepted}, before the TLS handshake (refused: it could be injected)"
            ),
            &rest,
        ));
    }
    let stream = timed
        .into_inner()
        .upgrade_tls(tls, &peer.host, peer.port, timeout)
        .await?;
    Ok(LineReader::new(Timed::new(stream, timeout)))
}
