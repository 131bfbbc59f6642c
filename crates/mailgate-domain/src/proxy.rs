//! Proxies a server connection may go through.

use crate::FieldError;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxyKind {
    /// SOCKS5, names resolved by the client.
    Socks5,
    /// SOCKS5, names resolved by the proxy.
    Socks5h,
    /// HTTP CONNECT tunnel.
    Http,
}

/// `socks5://host:port`, `socks5h://host:port` or `http://host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    pub kind: ProxyKind,
    pub host: String,
    pub port: u16,
}

impl ProxyUrl {
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let text = text.trim();
        let hint = "write the proxy as socks5://host:port, socks5h://host:port or http://host:port";
        let url = url::Url::parse(text).map_err(|_| {
            FieldError::new(field, format!("`{text}` is not a proxy URL")).with_hint(hint)
        })?;
        let kind = match url.scheme() {
            "socks5" => ProxyKind::Socks5,
            "socks5h" => ProxyKind::Socks5h,
            "http" => ProxyKind::Http,
            other => {
                return Err(FieldError::new(
                    field,
                    format!("proxy scheme `{other}` is not supported"),
                )
                .with_hint(hint));
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                FieldError::new(field, "proxy credentials are not supported").with_hint(
                    "remove `user:password@` and allow this host at the proxy by its address",
                ),
            );
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| FieldError::new(field, "the proxy URL has no host").with_hint(hint))?;
        let port = url
            .port()
            .ok_or_else(|| FieldError::new(field, "the proxy URL has no port").with_hint(hint))?;
        if !matches!(url.path(), "" | "/") || url.query().is_some() {
            return Err(FieldError::new(field, "a proxy URL has no path or query").with_hint(hint));
        }
        Ok(Self {
            kind,
            host: host.to_owned(),
            port,
        })
    }
}

impl std::fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = match self.kind {
            ProxyKind::Socks5 => "socks5",
            ProxyKind::Socks5h => "socks5h",
            ProxyKind::Http => "http",
        };
        write!(f, "{scheme}://{}:{}", self.host, self.port)
    }
}

impl Serialize for ProxyUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ProxyUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse("proxy", &text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_round_trip_and_bad_ones_say_why() {
        for text in [
            "socks5://127.0.0.1:1080",
            "socks5h://proxy.internal:1080",
            "http://10.0.0.1:3128",
        ] {
            assert_eq!(ProxyUrl::parse("proxy", text).unwrap().to_string(), text);
        }
        for (text, why) in [
            ("ftp://h:1", "not supported"),
            ("socks5://h", "no port"),
            ("socks5://u:p@h:1", "credentials"),
            ("h:1080", "not supported"),
            ("nonsense", "not a proxy URL"),
        ] {
            let e = ProxyUrl::parse("proxy", text).unwrap_err();
            assert!(e.message.contains(why), "{text}: {}", e.message);
        }
    }
}
