//! Launcher for the real local mail stack: Dovecot (IMAP, POP3, LMTP, SASL) and Postfix
//! (SMTP) started from `mailstack/` on 127.0.0.1, checking XOAUTH2/OAUTHBEARER bearer
//! tokens against an HTTP tokeninfo endpoint that the test provides.
//!
//! The shell scripts do the work (see `mailstack/README.md`); this module runs them,
//! parses what `start.sh` prints and gives tests TLS settings and fresh addresses.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// The only mail domain of the stack; every address in it is a mailbox.
pub const DOMAIN: &str = "example.test";
/// Fixed users of `mailstack/templates/users` and their PLAIN/LOGIN passwords.
pub const ALICE: (&str, &str) = ("alice@example.test", "alice-password");
pub const BOB: (&str, &str) = ("bob@example.test", "bob-password");
/// Receives mail sent to other domains (nothing leaves the machine).
pub const CATCHALL: (&str, &str) = ("catchall@example.test", "catchall-password");

const SCRIPTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/mailstack");

/// One running Dovecot + Postfix instance in its own temporary directory.
///
/// Dropping it stops the daemons and removes the directory in the background; a stack
/// that is never dropped (a `static`) is stopped by a watchdog when the process exits.
#[derive(Debug)]
pub struct MailStack {
    /// Instance directory: configs, logs (`log/dovecot.log`, `log/postfix.log`), mail.
    pub dir: PathBuf,
    /// Inbound SMTP (MX-like): no AUTH, accepts mail for [`DOMAIN`] only.
    pub smtp_port: u16,
    /// Submission: STARTTLS required, then AUTH required to send.
    pub submission_port: u16,
    /// SMTP over implicit TLS, AUTH required to send.
    pub smtps_port: u16,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub pop3_port: u16,
    pub pop3s_port: u16,
    /// The test CA that signed the servers' certificate.
    pub ca_pem: PathBuf,
    pub domain: String,
    tls: Arc<rustls::ClientConfig>,
    stopped: bool,
}

impl MailStack {
    /// Starts a new instance whose Dovecot validates bearer tokens with
    /// `GET {token_base_url}/tokeninfo?access_token=<token>`, and waits until every
    /// port answers. Installs the Debian packages first if they are missing (root only).
    pub fn start(token_base_url: &str) -> Result<MailStack> {
        let dir = tempfile::Builder::new()
            .prefix("mailstack-")
            .tempdir()
            .context("creating a temporary directory for the mail stack")?
            // Kept on failure so its logs can be read; stop.sh removes it otherwise.
            .keep();
        let output = start_command(&dir, token_base_url)
            .output()
            .with_context(|| format!("running bash {}", script("start.sh").display()))?;
        if !output.status.success() {
            // Keep the directory when it holds logs to read; otherwise nothing started.
            if !dir.join("log").exists() {
                let _ = std::fs::remove_dir_all(&dir);
            }
            bail!(
                "the Dovecot/Postfix test stack could not start ({} exited with {}):\n{}\n\
                 If Dovecot or Postfix is missing, run {} as root.",
                script("start.sh").display(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim_end(),
                script("install.sh").display(),
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        Self::from_env_lines(&stdout).inspect_err(|_| run_stop(&dir, true))
    }

    fn from_env_lines(text: &str) -> Result<MailStack> {
        let vars: HashMap<&str, &str> = text
            .lines()
            .filter_map(|line| line.split_once('='))
            .collect();
        let get = |key: &str| {
            vars.get(key)
                .copied()
                .ok_or_else(|| anyhow!("start.sh printed no {key}; its output was:\n{text}"))
        };
        let port = |key: &str| -> Result<u16> {
            get(key)?
                .parse()
                .with_context(|| format!("start.sh printed a bad {key}"))
        };
        let ca_pem = PathBuf::from(get("MAILSTACK_CA_PEM")?);
        let tls = client_config(&ca_pem)?;
        Ok(MailStack {
            dir: PathBuf::from(get("MAILSTACK_DIR")?),
            smtp_port: port("MAILSTACK_SMTP_PORT")?,
            submission_port: port("MAILSTACK_SUBMISSION_PORT")?,
            smtps_port: port("MAILSTACK_SMTPS_PORT")?,
            imap_port: port("MAILSTACK_IMAP_PORT")?,
            imaps_port: port("MAILSTACK_IMAPS_PORT")?,
            pop3_port: port("MAILSTACK_POP3_PORT")?,
            pop3s_port: port("MAILSTACK_POP3S_PORT")?,
            ca_pem,
            domain: get("MAILSTACK_DOMAIN")?.to_owned(),
            tls,
            stopped: false,
        })
    }

    /// Stops Dovecot (IMAP, POP3) and starts it again on the same ports and mail, Postfix left
    /// running: a mail server restart as connected IMAP/POP3 clients see it.
    pub fn restart_dovecot(&self, token_base_url: &str) -> Result<()> {
        let pid = std::fs::read_to_string(self.dir.join("run/dovecot/master.pid"))
            .context("reading Dovecot's pid file")?;
        let pid = pid.trim().to_owned();
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .context("signalling Dovecot")?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        // Gone, or a zombie waiting for init (this container reaps orphans about once a second).
        while std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            !stat
                .split_whitespace()
                .nth(2)
                .is_some_and(|state| state == "Z" || state == "X")
        }) {
            if std::time::Instant::now() > deadline {
                bail!("Dovecot ({pid}) did not stop within 15 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // With Postfix still running, start.sh keeps the instance's ports and starts Dovecot.
        let output = start_command(&self.dir, token_base_url)
            .output()
            .context("running mailstack/start.sh")?;
        if !output.status.success() {
            bail!(
                "restarting Dovecot failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// Stops the daemons, waits for them to exit and removes the directory.
    pub fn stop(mut self) -> Result<()> {
        self.stopped = true;
        let status = stop_command(&self.dir)
            .status()
            .context("running mailstack/stop.sh")?;
        if !status.success() {
            bail!(
                "mailstack/stop.sh {} exited with {status}",
                self.dir.display()
            );
        }
        Ok(())
    }

    /// A rustls client configuration that trusts only the stack's test CA.
    pub fn tls_client_config(&self) -> Arc<rustls::ClientConfig> {
        self.tls.clone()
    }

    /// A server name the servers' certificate is valid for (its SANs are `127.0.0.1`,
    /// `localhost` and `mail.example.test`).
    pub fn tls_server_name(&self) -> ServerName<'static> {
        ServerName::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST).into())
    }

    /// A new address of the stack's domain; its mailbox appears on first use.
    pub fn fresh_user(&self, prefix: &str) -> String {
        format!("{prefix}-{}@{}", uuid::Uuid::new_v4(), self.domain)
    }

    /// `127.0.0.1:port`, where every service of the stack listens.
    pub fn addr(port: u16) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, port))
    }
}

impl Drop for MailStack {
    fn drop(&mut self) {
        if !self.stopped {
            run_stop(&self.dir, false);
        }
    }
}

fn script(name: &str) -> PathBuf {
    Path::new(SCRIPTS).join(name)
}

/// start.sh for the instance in `dir`; a watchdog stops it when this process exits.
fn start_command(dir: &Path, token_base_url: &str) -> Command {
    let mut command = Command::new("bash");
    command
        .arg(script("start.sh"))
        .env("MAILSTACK_DIR", dir)
        .env("MAILSTACK_TOKEN_URL", token_base_url)
        .env("MAILSTACK_PARENT_PID", std::process::id().to_string())
        .env("MAILSTACK_REMOVE_DIR", "1")
        .stdin(Stdio::null());
    command
}

fn stop_command(dir: &Path) -> Command {
    let mut command = Command::new("bash");
    command
        .arg(script("stop.sh"))
        .arg(dir)
        .env("MAILSTACK_REMOVE_DIR", "1")
        .stdin(Stdio::null());
    command
}

/// Runs stop.sh, waiting for it or detached (own process group, so it finishes even
/// when the test process exits or is interrupted right after).
fn run_stop(dir: &Path, wait: bool) {
    let mut command = stop_command(dir);
    if wait {
        let _ = command.status();
    } else {
        let _ = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
    }
}

fn client_config(ca_pem: &Path) -> Result<Arc<rustls::ClientConfig>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_pem)
        .with_context(|| format!("reading the test CA {}", ca_pem.display()))?
    {
        let cert = cert.with_context(|| format!("parsing the test CA {}", ca_pem.display()))?;
        roots
            .add(cert)
            .with_context(|| format!("trusting the test CA {}", ca_pem.display()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("rustls protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
