//! Test Connection: each step of reaching a server (credential, connect, TLS, sign-in, a first
//! command) timed and reported in order, with the fix for the one that fails. Incoming servers
//! (IMAP, POP3) in [`incoming`], outgoing ones (SMTP, the Gmail API) in [`outgoing`]; this file
//! holds the report and the steps they share. Nothing is imported or sent.

pub mod incoming;
pub mod outgoing;

use mailgate_domain::troubleshoot::Diagnosis;
use mailgate_proto::dial::{self, Endpoint, MailStream, Security};
use mailgate_proto::error::ProtoError;
use serde::Serialize;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the detail of a step that did not run starts.
pub const SKIPPED: &str = "skipped: ";

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Step {
    /// `credential`, `connect` (TCP, through the proxy if any), `tls` (the handshake, or
    /// STARTTLS), then `authenticate` and `select` (IMAP) or `stat` (POP3); for SMTP `ehlo`
    /// before `authenticate`; for the Gmail API `credential` and `profile`.
    pub step: &'static str,
    /// False only for the failing step (the last one). A step that did not apply (`tls` for
    /// a server without TLS) passes, with a detail starting `skipped: ` and the reason.
    pub ok: bool,
    pub detail: String,
    pub millis: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TestReport {
    pub ok: bool,
    pub steps: Vec<Step>,
}

pub(crate) struct Steps(pub Vec<Step>);

impl Steps {
    pub fn pass(&mut self, step: &'static str, started: Instant, detail: String) {
        self.0.push(Step {
            step,
            ok: true,
            detail,
            millis: started.elapsed().as_millis(),
            diagnosis: None,
        });
    }

    /// A step that does not apply to this server, with the reason.
    pub fn skip(&mut self, step: &'static str, reason: &str) {
        self.0.push(Step {
            step,
            ok: true,
            detail: format!("{SKIPPED}{reason}"),
            millis: 0,
            diagnosis: None,
        });
    }

    pub fn fail(
        mut self,
        step: &'static str,
        started: Instant,
        diagnosis: Diagnosis,
    ) -> TestReport {
        self.0.push(Step {
            step,
            ok: false,
            detail: diagnosis.message.clone(),
            millis: started.elapsed().as_millis(),
            diagnosis: Some(diagnosis),
        });
        TestReport {
            ok: false,
            steps: self.0,
        }
    }
}

impl Steps {
    /// Every step passed.
    pub fn done(self) -> TestReport {
        TestReport {
            ok: true,
            steps: self.0,
        }
    }
}

/// A step that failed: which one, when it started, and the fix.
pub(crate) struct Failed {
    pub step: &'static str,
    pub started: Instant,
    pub diagnosis: Diagnosis,
}

impl Steps {
    /// The report of a run that stopped at `failed`.
    pub fn failed(self, failed: Failed) -> TestReport {
        self.fail(failed.step, failed.started, failed.diagnosis)
    }
}

/// What the `connect` step reached.
pub(crate) fn connected(ep: &Endpoint) -> String {
    let via = ep
        .proxy
        .as_ref()
        .map(|p| format!(" through the proxy {p}"))
        .unwrap_or_default();
    format!("TCP connection to {}:{} open{via}", ep.host, ep.port)
}

/// The `connect` and `tls` steps of a mailbox protocol (IMAP, POP3). `connect` is TCP (through
/// the proxy, if any) and, on a connection that starts in clear, the server's greeting; `tls`
/// is for `ssl` the handshake and the greeting read over it, for `starttls` the upgrade
/// (`upgrade`), for `none` skipped. `greet` reads the greeting and the capabilities.
pub(crate) async fn connect_mailbox<C>(
    steps: &mut Steps,
    ep: &Endpoint,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    diagnose: impl Fn(ProtoError) -> Diagnosis,
    greet: impl AsyncFnOnce(MailStream) -> Result<C, ProtoError>,
    upgrade: impl AsyncFnOnce(C, Arc<rustls::ClientConfig>) -> Result<C, ProtoError>,
) -> Result<C, Failed> {
    let fail = |step, started, e| Failed {
        step,
        started,
        diagnosis: diagnose(e),
    };
    let t = Instant::now();
    let tcp = dial::connect_tcp(ep, timeout)
        .await
        .map_err(|e| fail("connect", t, e))?;
    if ep.security == Security::Ssl {
        steps.pass("connect", t, connected(ep));
        let t = Instant::now();
        let stream = dial::secure(tcp, ep, tls, timeout)
            .await
            .map_err(|e| fail("tls", t, e))?;
        let client = greet(stream).await.map_err(|e| fail("tls", t, e))?;
        steps.pass("tls", t, implicit_tls(&ep.host));
        return Ok(client);
    }
    let client = greet(tcp).await.map_err(|e| fail("connect", t, e))?;
    steps.pass(
        "connect",
        t,
        format!("{}; the server greeted", connected(ep)),
    );
    if ep.security == Security::None {
        steps.skip("tls", NO_TLS);
        return Ok(client);
    }
    let t = Instant::now();
    let client = upgrade(client, tls).await.map_err(|e| fail("tls", t, e))?;
    steps.pass("tls", t, starttls(&ep.host));
    Ok(client)
}

/// Why the `tls` step of a server with security `none` is skipped.
pub(crate) const NO_TLS: &str = "the server's security is `none`: a plain connection without TLS (only for this machine or a trusted network)";

pub(crate) fn implicit_tls(host: &str) -> String {
    format!("TLS from the first byte (ssl); the certificate of {host} is valid")
}

pub(crate) fn starttls(host: &str) -> String {
    format!("STARTTLS accepted; the certificate of {host} is valid")
}
