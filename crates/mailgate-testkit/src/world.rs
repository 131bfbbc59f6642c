//! The world tests run against: one Google emulator and one Dovecot + Postfix stack per test
//! binary, started on first use and stopped by the stack's watchdog when the process exits.
//! Dovecot validates bearer tokens at the emulator's tokeninfo endpoint; the emulator delivers
//! Gmail API sends into the stack. Tests isolate themselves with fresh users.

use crate::mailstack::{CATCHALL, MailStack};
use crate::wire::{Conn, xoauth2};
use mailgate_emulator::MintAccessToken;
use mailgate_emulator::{BackgroundEmulator, Emulator, EmulatorConfig};
use std::sync::LazyLock;

pub struct World {
    pub emulator: BackgroundEmulator,
    pub stack: MailStack,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    crate::init();
    let config = EmulatorConfig {
        catchall: Some(CATCHALL.0.to_owned()),
        ..EmulatorConfig::default()
    };
    let emulator = Emulator::start_in_background(config)
        .unwrap_or_else(|e| panic!("the Google emulator could not start: {e:#}"));
    let started = std::time::Instant::now();
    let stack = MailStack::start(emulator.base_url()).unwrap_or_else(|e| panic!("{e:#}"));
    eprintln!(
        "mail stack ready in {:.2?} ({})",
        started.elapsed(),
        stack.dir.display()
    );
    emulator
        .control()
        .set_smtp_relay(Some(MailStack::addr(stack.smtp_port)));
    World { emulator, stack }
});

/// The process's world, started on first use. Panics with the reason when it cannot start:
/// a test that needs real servers fails, it never skips.
pub fn world() -> &'static World {
    &WORLD
}

impl World {
    /// A mailbox no other test uses (`prefix-<uuid>@example.test`, created on first use).
    pub fn fresh_user(&self, prefix: &str) -> String {
        self.stack.fresh_user(prefix)
    }

    /// A valid access token for `email` with the scope `https://mail.google.com/`.
    pub fn mint_token(&self, email: &str) -> String {
        self.emulator
            .control()
            .mint_access_token(MintAccessToken::for_email(email))
            .expect("the emulator mints a token")
            .access_token
    }

    /// Delivers a raw RFC 5322 message to `to` through the stack's inbound SMTP port (as an MX
    /// would receive it from the internet).
    pub async fn deliver(&self, from: &str, to: &str, message: &str) {
        deliver_to(&self.stack, from, to, message).await;
    }

    /// The raw messages in `user`'s INBOX, read over IMAPS with XOAUTH2, waiting up to `wait`
    /// for at least `at_least` of them (delivery through Postfix takes a few milliseconds).
    pub async fn read_inbox(
        &self,
        user: &str,
        at_least: usize,
        wait: std::time::Duration,
    ) -> Vec<String> {
        let deadline = std::time::Instant::now() + wait;
        loop {
            let messages = self.fetch_inbox(user).await;
            if messages.len() >= at_least || std::time::Instant::now() >= deadline {
                return messages;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// How many messages `user`'s INBOX holds (SELECT only; cheap for big mailboxes). Logs in
    /// with `password`, or with a minted token when `None`.
    pub async fn inbox_count(&self, user: &str, password: Option<&str>) -> usize {
        let (mut imap, exists) = self.open_inbox(user, password).await;
        imap.imap("a3", "LOGOUT").await;
        exists
    }

    /// An IMAPS session on `user`'s INBOX (password, or a minted token when `None`), and how
    /// many messages it holds.
    async fn open_inbox(&self, user: &str, password: Option<&str>) -> (Conn, usize) {
        self.open_folder(user, password, "INBOX").await
    }

    /// An IMAPS session of `user` (password, or a minted token when `None`) with `folder`
    /// selected, and how many messages it holds.
    pub async fn open_folder(
        &self,
        user: &str,
        password: Option<&str>,
        folder: &str,
    ) -> (Conn, usize) {
        let mut imap = Conn::tls(&self.stack, self.stack.imaps_port).await;
        assert!(imap.line().await.starts_with("* OK"));
        let login = match password {
            Some(p) => imap.imap("a1", &format!("LOGIN \"{user}\" \"{p}\"")).await,
            None => {
                let auth = format!(
                    "AUTHENTICATE XOAUTH2 {}",
                    xoauth2(user, &self.mint_token(user))
                );
                imap.imap("a1", &auth).await
            }
        };
        assert!(
            login.last().is_some_and(|l| l.starts_with("a1 OK")),
            "IMAP login: {login:?}"
        );
        let select = imap.imap("a2", &format!("SELECT {folder}")).await;
        let exists = select
            .iter()
            .find_map(|l| l.strip_prefix("* ").and_then(|r| r.strip_suffix(" EXISTS")))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        (imap, exists)
    }

    async fn fetch_inbox(&self, user: &str) -> Vec<String> {
        let (mut imap, exists) = self.open_inbox(user, None).await;
        let mut messages = Vec::new();
        for n in 1..=exists {
            let lines = imap
                .imap(&format!("f{n}"), &format!("FETCH {n} BODY.PEEK[]"))
                .await;
            // `* n FETCH (BODY[] {size}`, the literal's lines, `)`, the tagged OK.
            let body: Vec<&str> = lines
                .iter()
                .skip(1)
                .take(lines.len().saturating_sub(3))
                .map(String::as_str)
                .collect();
            messages.push(body.join("\r\n"));
        }
        imap.imap("a3", "LOGOUT").await;
        messages
    }
}

/// Delivers a raw message through `stack`'s inbound SMTP port (any stack, not only the world's).
pub async fn deliver_to(stack: &MailStack, from: &str, to: &str, message: &str) {
    let mut smtp = Conn::plain(stack.smtp_port).await;
    let ok = |reply: Vec<String>, code: &str| {
        assert!(
            reply.last().is_some_and(|l| l.starts_with(code)),
            "SMTP: {reply:?}"
        )
    };
    ok(smtp.smtp_reply().await, "220");
    ok(smtp.smtp("EHLO sender.example").await, "250");
    ok(smtp.smtp(&format!("MAIL FROM:<{from}>")).await, "250");
    ok(smtp.smtp(&format!("RCPT TO:<{to}>")).await, "250");
    ok(smtp.smtp("DATA").await, "354");
    for line in message.replace("\r\n", "\n").split('\n') {
        let stuffed = if line.starts_with('.') {
            format!(".{line}")
        } else {
            line.to_owned()
        };
        smtp.send(&stuffed).await;
    }
    ok(smtp.smtp(".").await, "250");
    smtp.smtp("QUIT").await;
}
