//! A stored secret never follows an endpoint change. The client secret of an OAuth app goes to
//! its token URL, a server's password to its host (through its proxy, as its user name): when an
//! update changes where a secret goes, the request must carry the secret again, or it is refused
//! with `secret_required`. Grants obtained through an OAuth app's old endpoints are dropped.

use super::{Resource, SecretMap, ServiceError};
use crate::Core;
use mailgate_domain::troubleshoot::Code;
use mailgate_domain::troubleshoot::Diagnosis;
use mailgate_domain::{Id, server::Auth};

/// Where an object's secrets go: each value that decides it, by the field that sets it.
pub type Destination = Vec<(&'static str, String)>;

/// The fields whose value differs between the two destinations.
fn changed(old: &Destination, new: &Destination) -> Vec<&'static str> {
    new.iter()
        .filter(|(field, value)| {
            old.iter()
                .find(|(f, _)| f == field)
                .is_none_or(|(_, v)| v != value)
        })
        .map(|(field, _)| *field)
        .collect()
}

/// Refuses an update that sends a stored secret elsewhere without carrying it again. `stored`
/// are the secrets before the update, `given` those the request carries. Returns the fields that
/// changed where secrets go (empty when none did).
pub fn check<R: Resource>(
    old: &R::Spec,
    new: &R::Spec,
    stored: &SecretMap,
    given: &SecretMap,
) -> Result<Vec<&'static str>, ServiceError> {
    let moved = changed(&R::destination(old), &R::destination(new));
    let Some(first) = moved.first() else {
        return Ok(moved);
    };
    for secret in R::SECRETS {
        if stored.contains_key(*secret) && !given.contains_key(*secret) {
            return Err(ServiceError::SecretRequired {
                secret,
                changed: (*first).to_owned(),
            });
        }
    }
    Ok(moved)
}

/// After an OAuth app's endpoints changed (`moved`), its grants were obtained elsewhere: they are
/// dropped, and its servers show `authorization_required` with the reason.
pub async fn drop_grants(core: &Core, app_id: Id, moved: &[&str]) -> Result<(), ServiceError> {
    let reason = Diagnosis::new(
        Code::AuthorizationRequired,
        format!(
            "The OAuth app's {} changed, so the grants obtained through the old endpoints were dropped: mailgate never sends a refresh token to another endpoint than the one that issued it.",
            moved.join(", ")
        ),
        "Authorize the server again: POST /api/v1/{incoming,outgoing}-servers/{id}/authorize and open the URL as the mailbox.",
    );
    crate::tokens::drop_grants_of(core, app_id, &reason).await?;
    Ok(())
}

/// The destination of a password: the host and port, the proxy, and the user name it is sent as
/// (nothing for a server that does not log in with a password).
pub fn password_destination(
    host: Option<&str>,
    port: Option<u16>,
    proxy: Option<&mailgate_domain::proxy::ProxyUrl>,
    auth: &Auth,
) -> Destination {
    // Without a password login, no stored password is sent anywhere.
    let Auth::Basic { username } = auth else {
        return Vec::new();
    };
    vec![
        ("host", host.unwrap_or_default().to_ascii_lowercase()),
        ("port", port.map(|p| p.to_string()).unwrap_or_default()),
        (
            "proxy",
            proxy
                .map(|p| format!("{:?}://{}:{}", p.kind, p.host, p.port))
                .unwrap_or_default(),
        ),
        ("username", username.clone()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_fields_count() {
        let old = vec![("host", "a".to_owned()), ("port", "1".to_owned())];
        let new = vec![("host", "a".to_owned()), ("port", "2".to_owned())];
        assert_eq!(changed(&old, &new), ["port"]);
        assert!(changed(&old, &old).is_empty());
    }
}
