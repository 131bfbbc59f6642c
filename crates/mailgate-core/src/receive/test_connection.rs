//! Test Connection for an incoming server: each step (credential, connect with TLS,
//! authenticate, open the folder) reported in order, with the fix for the one that fails.

use super::watch::{WatchError, load_mailbox};
use crate::Core;
use crate::objects::ServiceError;
use crate::tokens::{self, CredentialKey};
use mailgate_domain::incoming::IncomingProtocol;
use mailgate_domain::server::Auth;
use mailgate_domain::troubleshoot::Diagnosis;
use mailgate_domain::{ExposeSecret, Id};
use mailgate_proto::dial::Endpoint;
use mailgate_proto::sasl::Credentials;
use mailgate_proto::{imap, pop3};
use serde::Serialize;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Step {
    /// `credential`, `connect`, `authenticate`, `select` (IMAP) or `stat` (POP3).
    pub step: &'static str,
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

struct Steps(Vec<Step>);

impl Steps {
    fn pass(&mut self, step: &'static str, started: Instant, detail: String) {
        self.0.push(Step {
            step,
            ok: true,
            detail,
            millis: started.elapsed().as_millis(),
            diagnosis: None,
        });
    }

    fn fail(mut self, step: &'static str, started: Instant, diagnosis: Diagnosis) -> TestReport {
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

pub async fn run(core: &Core, id: &str) -> Result<TestReport, ServiceError> {
    let server_id = Id::parse("id", id).map_err(|_| ServiceError::NotFound {
        what: "incoming server",
        id: id.to_owned(),
    })?;
    let mailbox = load_mailbox(core, server_id)
        .await
        .map_err(|_| ServiceError::NotFound {
            what: "incoming server",
            id: id.to_owned(),
        })?;
    let spec = &mailbox.spec;
    let mut steps = Steps(Vec::new());

    let t = Instant::now();
    let user = spec.email.as_str().to_owned();
    let creds = match &spec.auth {
        Auth::Oauth { .. } => {
            let Some(key) = CredentialKey::for_server(&spec.auth, &user, false) else {
                return Ok(steps.fail(
                    "credential",
                    t,
                    WatchError::Config("no credential".into()).diagnosis(),
                ));
            };
            match tokens::access_token(core, &key).await {
                Ok(token) => {
                    steps.pass("credential", t, format!("an access token for {user}"));
                    Credentials::XOAuth2 {
                        user,
                        token: token.token,
                    }
                }
                Err(d) => return Ok(steps.fail("credential", t, d)),
            }
        }
        Auth::Basic { username } => {
            let (_, _, secrets) =
                crate::objects::Objects::<crate::objects::IncomingServers>::load(core, server_id)
                    .await?;
            let password = secrets
                .get("password")
                .map(|p| p.expose_secret().to_owned())
                .unwrap_or_default();
            steps.pass("credential", t, format!("the password of {username}"));
            Credentials::Plain {
                user: username.clone(),
                password: password.into(),
            }
        }
        Auth::None => {
            return Ok(steps.fail(
                "credential",
                t,
                WatchError::Config("a mailbox cannot be read without authentication".into())
                    .diagnosis(),
            ));
        }
    };
    let tls =
        mailgate_proto::tls::client_config(core.settings.tls_extra_ca_file.as_deref(), &[])
            .map_err(|e| ServiceError::Store(mailgate_store::StoreError::Config(e.to_string())))?;
    let ep =
        Endpoint::new(spec.host.clone(), spec.port, spec.security).with_proxy(spec.proxy.clone());
    let security = serde_json::to_value(spec.security)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let t = Instant::now();
    let fail = |e: mailgate_proto::error::ProtoError| WatchError::Proto(e).diagnosis();
    match spec.protocol {
        IncomingProtocol::Imap => {
            let client = match imap::connect(&ep, tls, TIMEOUT).await {
                Ok(c) => c,
                Err(e) => return Ok(steps.fail("connect", t, fail(e))),
            };
            steps.pass(
                "connect",
                t,
                format!("{}:{} ({security}) answered", spec.host, spec.port),
            );
            let t = Instant::now();
            let mut session = match client.login(&creds).await {
                Ok(s) => s,
                Err(e) => return Ok(steps.fail("authenticate", t, fail(e))),
            };
            steps.pass("authenticate", t, format!("signed in as {}", creds.user()));
            let t = Instant::now();
            match session.select(&spec.folder).await {
                Ok(folder) => steps.pass(
                    "select",
                    t,
                    format!("{} holds {} messages", spec.folder, folder.exists),
                ),
                Err(e) => return Ok(steps.fail("select", t, fail(e))),
            }
            let _ = session.logout().await;
        }
        IncomingProtocol::Pop3 => {
            let mut client = match pop3::connect(&ep, tls, TIMEOUT).await {
                Ok(c) => c,
                Err(e) => return Ok(steps.fail("connect", t, fail(e))),
            };
            steps.pass(
                "connect",
                t,
                format!("{}:{} ({security}) answered", spec.host, spec.port),
            );
            let t = Instant::now();
            if let Err(e) = client.login(&creds).await {
                return Ok(steps.fail("authenticate", t, fail(e)));
            }
            steps.pass("authenticate", t, format!("signed in as {}", creds.user()));
            let t = Instant::now();
            match client.stat().await {
                Ok(stat) => steps.pass(
                    "stat",
                    t,
                    format!("{} messages, {} bytes", stat.count, stat.size),
                ),
                Err(e) => return Ok(steps.fail("stat", t, fail(e))),
            }
            let _ = client.quit().await;
        }
    }
    Ok(TestReport {
        ok: true,
        steps: steps.0,
    })
}
