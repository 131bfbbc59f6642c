//! The keys mailgate knows, their defaults, and how each is checked.

use super::reader::{ConfigProblem, Raw, Reader};
use super::settings::{HttpSettings, MasterKeySource, SendSettings, Settings, ThreadByTag};
use mailgate_store::DatabaseUrl;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The shipped, commented example: every key with its default.
pub const EXAMPLE: &str = include_str!("../../../../config/mailgate.example.toml");

const KEYS: &[&str] = &[
    "server.listen",
    "server.base_url",
    "server.metrics_public",
    "server.header_read_timeout_secs",
    "server.request_timeout_secs",
    "server.idle_timeout_secs",
    "server.max_connections",
    "storage.data_dir",
    "database.url",
    "database.max_connections",
    "database.allow_async_commit",
    "secrets.master_key_file",
    "secrets.master_key",
    "log.level",
    "log.format",
    "tls.extra_ca_file",
    "receive.max_message_bytes",
    "receive.poll_interval_secs",
    "receive.thread_by_tag",
    "send.max_attempts",
    "send.retry_base_secs",
    "send.retry_max_secs",
    "send.concurrency",
    "send.connections_per_server",
];

pub(super) fn resolve(
    values: &BTreeMap<String, Raw>,
    problems: &mut Vec<ConfigProblem>,
) -> Option<Settings> {
    for (key, raw) in values {
        if !KEYS.contains(&key.as_str()) {
            let section = key.split('.').next().unwrap_or_default();
            let siblings: Vec<&str> = KEYS
                .iter()
                .copied()
                .filter(|k| k.starts_with(&format!("{section}.")))
                .collect();
            let hint = if siblings.is_empty() {
                format!("the sections are: {}", sections().join(", "))
            } else {
                format!("known keys in [{section}]: {}", siblings.join(", "))
            };
            problems.push(ConfigProblem {
                key: key.clone(),
                origin: raw.origin.clone(),
                message: "unknown key".into(),
                hint: Some(hint),
            });
        }
    }
    let mut r = Reader { values, problems };

    let listen_text = r
        .string("server.listen")
        .unwrap_or_else(|| "127.0.0.1:8025".into());
    let listen: Option<SocketAddr> = match listen_text.parse() {
        Ok(a) => Some(a),
        Err(_) => {
            r.problem(
                "server.listen",
                format!("`{listen_text}` is not an address and port"),
                "write HOST:PORT with an IP address, e.g. 127.0.0.1:8025 or 0.0.0.0:8025",
            );
            None
        }
    };
    let base_url = match (r.string("server.base_url"), listen) {
        (Some(text), _) => check_base_url(&mut r, &text),
        (None, Some(listen)) if listen.ip().is_loopback() => Some(format!("http://{listen}")),
        (None, Some(listen)) if listen.ip().is_unspecified() && listen.port() != 0 => {
            r.problem(
                "server.base_url",
                format!("mailgate listens on {listen} but its public URL is unknown"),
                "set server.base_url to the HTTPS URL users and OAuth providers reach it at, e.g. https://mail.example.com",
            );
            None
        }
        (None, Some(listen)) => Some(format!("http://{listen}")),
        (None, None) => None,
    };

    let data_dir = PathBuf::from(
        r.string("storage.data_dir")
            .unwrap_or_else(|| "./mailgate-data".into()),
    );
    let database_url = match r.string("database.url") {
        None => Some(DatabaseUrl::sqlite_file(&data_dir.join("mailgate.db"))),
        Some(text) => match DatabaseUrl::parse(&text) {
            Ok(url) if matches!(url.scheme(), "sqlite" | "postgres" | "postgresql") => Some(url),
            Ok(url) => {
                let scheme = url.scheme().to_owned();
                r.problem(
                    "database.url",
                    format!("the scheme `{scheme}` is not supported"),
                    "use sqlite://PATH or postgres://USER:PASSWORD@HOST/DATABASE",
                );
                None
            }
            Err(e) => {
                r.problem(
                    "database.url",
                    e,
                    "use sqlite://PATH or postgres://USER:PASSWORD@HOST/DATABASE",
                );
                None
            }
        },
    };
    let max_connections = r
        .integer("database.max_connections", 1..=1000)
        .unwrap_or(10) as u32;
    let allow_async_commit = r.boolean("database.allow_async_commit").unwrap_or(false);

    let master_key = match (
        r.string("secrets.master_key"),
        r.string("secrets.master_key_file"),
    ) {
        (Some(_), Some(_)) => {
            r.problem(
                "secrets.master_key",
                "both a master key and a master key file are given",
                "keep one: the key file, or the key itself in MAILGATE__SECRETS__MASTER_KEY",
            );
            None
        }
        (Some(key), None) => {
            if crate::secrets::MasterKey::from_base64(&key).is_err() {
                r.problem(
                    "secrets.master_key",
                    "not a base64-encoded 32-byte key",
                    "generate one with `head -c 32 /dev/urandom | base64`",
                );
                None
            } else {
                Some(MasterKeySource::Inline(key.into()))
            }
        }
        (None, file) => Some(MasterKeySource::File(
            file.map(PathBuf::from)
                .unwrap_or_else(|| data_dir.join("master.key")),
        )),
    };

    let log_level = r.string("log.level").unwrap_or_else(|| "info".into());
    if tracing_filter_ok(&log_level).is_err() {
        r.problem(
            "log.level",
            format!("`{log_level}` is not a log filter"),
            "use error, warn, info, debug or trace, or a filter such as info,mailgate_core=debug",
        );
    }
    let log_json = match r.string("log.format").as_deref() {
        None | Some("text") => false,
        Some("json") => true,
        Some(other) => {
            r.problem(
                "log.format",
                format!("`{other}` is not a log format"),
                "use `text` or `json`",
            );
            false
        }
    };

    let tls_extra_ca_file = r.string("tls.extra_ca_file").map(PathBuf::from);
    if let Some(path) = &tls_extra_ca_file {
        match std::fs::read(path) {
            Ok(pem) if pem_has_certificate(&pem) => {}
            Ok(_) => r.problem(
                "tls.extra_ca_file",
                format!("{} holds no PEM certificate", path.display()),
                "give a file with -----BEGIN CERTIFICATE----- blocks",
            ),
            Err(e) => r.problem(
                "tls.extra_ca_file",
                format!("cannot read {}: {e}", path.display()),
                "give the path of a PEM file with the CA certificate(s) to trust",
            ),
        }
    }

    let max_message_bytes = r
        .integer("receive.max_message_bytes", 1024..=1024 * 1024 * 1024)
        .unwrap_or(50 * 1024 * 1024) as usize;
    let poll_interval_secs = r
        .integer("receive.poll_interval_secs", 5..=86_400)
        .unwrap_or(60) as u64;

    let thread_by_tag = match r.string("receive.thread_by_tag").as_deref() {
        None | Some("participants_or_mailbox") => ThreadByTag::ParticipantsOrMailbox,
        Some("any") => ThreadByTag::Any,
        Some(other) => {
            r.problem(
                "receive.thread_by_tag",
                format!("`{other}` is not a threading rule"),
                "use `participants_or_mailbox` (the default) or `any`",
            );
            ThreadByTag::ParticipantsOrMailbox
        }
    };

    let send = SendSettings {
        max_attempts: r.integer("send.max_attempts", 1..=100).unwrap_or(10) as u32,
        retry_base: std::time::Duration::from_secs(
            r.integer("send.retry_base_secs", 1..=3_600).unwrap_or(30) as u64,
        ),
        retry_max: std::time::Duration::from_secs(
            r.integer("send.retry_max_secs", 1..=7 * 86_400)
                .unwrap_or(3_600) as u64,
        ),
        concurrency: r.integer("send.concurrency", 1..=256).unwrap_or(8) as usize,
        connections_per_server: r
            .integer("send.connections_per_server", 1..=32)
            .unwrap_or(3) as usize,
    };
    if send.retry_max < send.retry_base {
        r.problem(
            "send.retry_max_secs",
            "the longest wait between retries is shorter than the first one",
            "make send.retry_max_secs at least send.retry_base_secs",
        );
    }

    let defaults = HttpSettings::default();
    let http = HttpSettings {
        metrics_public: r
            .boolean("server.metrics_public")
            .unwrap_or(defaults.metrics_public),
        header_read_timeout: r.seconds(
            "server.header_read_timeout_secs",
            1..=3_600,
            defaults.header_read_timeout,
        ),
        request_timeout: r.seconds(
            "server.request_timeout_secs",
            1..=86_400,
            defaults.request_timeout,
        ),
        idle_timeout: r.seconds(
            "server.idle_timeout_secs",
            1..=86_400,
            defaults.idle_timeout,
        ),
        max_connections: r
            .integer("server.max_connections", 1..=1_000_000)
            .map_or(defaults.max_connections, |n| n as usize),
    };

    Some(Settings {
        send,
        http,
        receive_max_message_bytes: max_message_bytes,
        receive_poll_interval: std::time::Duration::from_secs(poll_interval_secs),
        receive_thread_by_tag: thread_by_tag,
        listen: listen?,
        base_url: base_url?,
        data_dir,
        database_url: database_url?,
        database_max_connections: max_connections,
        database_allow_async_commit: allow_async_commit,
        master_key: master_key?,
        log_level,
        log_json,
        tls_extra_ca_file,
    })
}

fn sections() -> Vec<&'static str> {
    let mut s: Vec<&str> = KEYS.iter().filter_map(|k| k.split('.').next()).collect();
    s.dedup();
    s
}

fn check_base_url(r: &mut Reader<'_>, text: &str) -> Option<String> {
    let hint = "write the URL users reach mailgate at, e.g. https://mail.example.com (the redirect URI is this plus /oauth/callback)";
    let url = match url::Url::parse(text) {
        Ok(u) => u,
        Err(e) => {
            r.problem(
                "server.base_url",
                format!("`{text}` is not a URL: {e}"),
                hint,
            );
            return None;
        }
    };
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_matches(['[', ']'])
        .to_owned();
    match url.scheme() {
        "https" => {}
        "http" if mailgate_domain::server::is_loopback_host(&host) => {}
        "http" => {
            r.problem(
                "server.base_url",
                format!("`{text}` uses http on a host other than this machine"),
                "OAuth providers accept plain-http redirect URIs only for localhost; serve mailgate over HTTPS and set an https:// URL",
            );
            return None;
        }
        other => {
            r.problem(
                "server.base_url",
                format!("the scheme `{other}` is not http or https"),
                hint,
            );
            return None;
        }
    }
    if url.query().is_some() || url.fragment().is_some() {
        r.problem(
            "server.base_url",
            "the base URL has a query or fragment",
            hint,
        );
        return None;
    }
    Some(url.as_str().trim_end_matches('/').to_owned())
}

fn tracing_filter_ok(text: &str) -> Result<(), ()> {
    let ok = text.split(',').all(|part| {
        let level = part.rsplit('=').next().unwrap_or_default().trim();
        matches!(
            level.to_ascii_lowercase().as_str(),
            "error" | "warn" | "info" | "debug" | "trace" | "off"
        ) && part
            .split('=')
            .next()
            .is_some_and(|target| !target.trim().is_empty())
    });
    if ok { Ok(()) } else { Err(()) }
}

fn pem_has_certificate(pem: &[u8]) -> bool {
    use rustls_pki_types::{CertificateDer, pem::PemObject};
    CertificateDer::pem_slice_iter(pem).any(|c| c.is_ok())
}

#[cfg(test)]
mod tests;
