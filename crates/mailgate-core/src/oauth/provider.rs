//! Whose fixes a diagnosis shows: the provider behind a server's OAuth app or service account,
//! else the one its host name belongs to.

use crate::Core;
use crate::objects::{OAuthApps, Objects};
use mailgate_domain::server::Auth;
use mailgate_domain::troubleshoot::ProviderKind;

/// Whose fixes a diagnosis shows: the provider of the server's OAuth app, Google for a service
/// account, else the provider of the host (`imap.gmail.com`...).
pub(crate) async fn of_server(core: &Core, auth: &Auth, host: &str) -> ProviderKind {
    let by_app = match auth {
        Auth::Oauth {
            oauth_app_id: Some(app),
            ..
        } => Objects::<OAuthApps>::load(core, *app)
            .await
            .map(|(_, spec, _)| ProviderKind::from(spec.provider))
            .ok(),
        Auth::Oauth {
            service_account_id: Some(_),
            ..
        } => Some(ProviderKind::Google),
        _ => None,
    };
    match by_app {
        Some(kind) if kind != ProviderKind::Generic => kind,
        _ => ProviderKind::of_host(host),
    }
}
