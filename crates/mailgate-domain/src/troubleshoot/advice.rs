//! OAuth diagnoses shared by the token endpoint, the authorization callback and the Microsoft
//! AADSTS table: the same failure gets the same words wherever it is noticed.
//!
//! Each builder takes `said`, the provider's own words already made safe by `text`, and puts
//! it after the explanation.

use super::catalog::*;
use super::{Diagnosis, ProviderKind, REDIRECT_URI_PLACEHOLDER};

const GOOGLE_CREDENTIALS: &str =
    "Google Cloud Console > APIs & Services > Credentials > (your OAuth 2.0 client)";
const ENTRA_APP: &str = "Microsoft Entra admin center > App registrations > (your app)";

/// `explanation` then the provider's words.
pub(super) fn with_said(explanation: &str, said: &str) -> String {
    if said.is_empty() {
        explanation.to_owned()
    } else {
        format!("{explanation} {said}")
    }
}

pub(super) fn scope_invalid(p: ProviderKind, said: &str) -> Diagnosis {
    let hint = p.pick(
        "Set the OAuth app's scopes in mailgate to exactly https://mail.google.com/ (plus openid and email), with no extra spaces; in Google Cloud Console > APIs & Services > OAuth consent screen > Data Access > Add or remove scopes, add https://mail.google.com/ and save; check that APIs & Services > Library > Gmail API is enabled; then authorize again.",
        "Use the scopes https://outlook.office.com/IMAP.AccessAsUser.All, https://outlook.office.com/POP.AccessAsUser.All, https://outlook.office.com/SMTP.Send and offline_access in the OAuth app (not Microsoft Graph's Mail.* scopes); add the same delegated permissions in Microsoft Entra admin center > App registrations > (your app) > API permissions; then authorize again.",
        "Compare the OAuth app's scopes in mailgate with the scopes your provider documents for IMAP/POP/SMTP access, remove any typo or extra space, then authorize again.",
    );
    let message = with_said(
        "The provider rejected a requested scope, so no access was granted (Google may show this as \"Access blocked: Authorization Error\").",
        said,
    );
    Diagnosis::new(SCOPE_INVALID, message, hint)
}

pub(super) fn redirect_uri_mismatch(p: ProviderKind, said: &str) -> Diagnosis {
    let place = p.pick(
        "Google Cloud Console > APIs & Services > Credentials > (your OAuth 2.0 client, type Web application) > Authorised redirect URIs",
        "Microsoft Entra admin center > App registrations > (your app) > Authentication > Web > Redirect URIs",
        "your provider's OAuth client settings (redirect or callback URIs)",
    );
    let hint = format!(
        "In {place}, add exactly {REDIRECT_URI_PLACEHOLDER} and save; base_url is [server] base_url in mailgate's configuration and must be the address your browser uses to reach mailgate. Then authorize again."
    );
    let message = with_said(
        "The redirect URI mailgate sent is not registered for this OAuth client; the match is exact (scheme, host, port, path and trailing slash).",
        said,
    );
    Diagnosis::new(REDIRECT_URI_MISMATCH, message, hint)
}

pub(super) fn admin_policy(p: ProviderKind, said: &str) -> Diagnosis {
    let hint = p.pick(
        "Ask the Google Workspace admin to trust the app: Admin console > Security > Access and data control > API controls > Manage third-party app access > Configure new app, find it by its OAuth client ID and set it to Trusted (or set Gmail to Unrestricted under Manage Google services). Then authorize again.",
        "Ask the Microsoft 365 admin to allow the app: Microsoft Entra admin center > Enterprise applications > Consent and permissions, or grant admin consent in App registrations > (your app) > API permissions. Then authorize again.",
        "Ask the organisation's administrator to allow this OAuth client, then authorize again.",
    );
    let message = with_said(
        "The organisation's administrator restricts which apps may reach this account's data, and this app is not allowed.",
        said,
    );
    Diagnosis::new(ADMIN_POLICY, message, hint)
}

pub(super) fn client_not_found(p: ProviderKind, said: &str) -> Diagnosis {
    let hint = p.pick(
        "Copy the client ID again from Google Cloud Console > APIs & Services > Credentials > OAuth 2.0 Client IDs (it ends in .apps.googleusercontent.com) into the OAuth app in mailgate; if the client was deleted, create a new one of type Web application and update both the client ID and the secret.",
        "Copy the Application (client) ID from Microsoft Entra admin center > App registrations > (your app) > Overview into the OAuth app in mailgate, and use that app's tenant (or /common for a multitenant app) in the authorization and token URLs.",
        "Copy the client ID again from your provider's console into the OAuth app in mailgate; create a new client if it was deleted.",
    );
    let message = with_said(
        "The provider does not know this OAuth client ID: it is mistyped, was deleted or is disabled.",
        said,
    );
    Diagnosis::new(CLIENT_NOT_FOUND, message, hint)
}

pub(super) fn client_secret_invalid(p: ProviderKind, said: &str) -> Diagnosis {
    let message = with_said(
        "The provider rejected the OAuth client secret: it is wrong, missing or belongs to another client.",
        said,
    );
    Diagnosis::new(CLIENT_SECRET_INVALID, message, new_secret_hint(p))
}

pub(super) fn client_secret_expired(p: ProviderKind, said: &str) -> Diagnosis {
    let message = with_said(
        "The OAuth client secret has expired (Microsoft secrets expire at the date chosen when they were created).",
        said,
    );
    Diagnosis::new(CLIENT_SECRET_EXPIRED, message, new_secret_hint(p))
}

fn new_secret_hint(p: ProviderKind) -> String {
    match p {
        ProviderKind::Google => format!(
            "Create a new secret in {GOOGLE_CREDENTIALS} > Add secret, paste it into the OAuth app in mailgate, and disable the old one once the server connects."
        ),
        ProviderKind::Microsoft => format!(
            "Create a new secret in {ENTRA_APP} > Certificates & secrets > New client secret and paste its Value (not its Secret ID) into the OAuth app in mailgate; note its expiry date."
        ),
        ProviderKind::Generic => {
            "Create a new client secret in your provider's console and paste it into the OAuth app in mailgate.".to_owned()
        }
    }
}

pub(super) fn client_invalid(p: ProviderKind, said: &str) -> Diagnosis {
    let hint = format!(
        "Check that the client ID and the client secret in the OAuth app come from the same client. {}",
        new_secret_hint(p)
    );
    let message = with_said(
        "The provider rejected the OAuth client's credentials (client ID or secret).",
        said,
    );
    Diagnosis::new(CLIENT_INVALID, message, hint)
}

pub(super) fn access_denied(p: ProviderKind, said: &str) -> Diagnosis {
    let hint = p.pick(
        "If the user declined, authorize again and click Allow on every permission. If Google showed \"Error 403: access_denied ... has not completed the Google verification process\", add the account in Google Cloud Console > APIs & Services > OAuth consent screen > Audience > Test users (or publish the app there; for a Workspace domain, User type Internal avoids both), then authorize again.",
        "If the user declined, authorize again and accept the permissions. If Microsoft refused on its own, check Microsoft Entra admin center > Enterprise applications > (your app) > Properties (Enabled for users to sign in) and Users and groups, then authorize again.",
        "Authorize again and accept every permission; if the provider refused by itself, check the app's allowed users in its console.",
    );
    let why = p.pick(
        "No access was granted: either the user declined on the consent screen, or the app is in Testing and the user is not one of its test users.",
        "No access was granted: either the user declined on the consent screen, or Microsoft refused the sign-in for this app.",
        "No access was granted: either the user declined on the consent screen, or the provider refused the sign-in for this app.",
    );
    let message = with_said(why, said);
    Diagnosis::new(ACCESS_DENIED, message, hint)
}

pub(super) fn testing_user_not_listed(said: &str) -> Diagnosis {
    let message = with_said(
        "The OAuth app is in Testing (it has not completed Google's verification) and the account that signed in is not one of its test users.",
        said,
    );
    Diagnosis::new(
        APP_TESTING_USER,
        message,
        "Add the account in Google Cloud Console > APIs & Services > OAuth consent screen > Audience > Test users, then authorize again; while the app stays in Testing its refresh tokens die after 7 days, so publish it (Audience > Publish app) or, for a Workspace domain, set User type to Internal.",
    )
}

pub(super) fn internal_only(said: &str) -> Diagnosis {
    let message = with_said(
        "The OAuth app's audience is Internal, so only accounts of the Google Workspace organisation that owns the project may sign in, and this account is outside it.",
        said,
    );
    Diagnosis::new(
        APP_INTERNAL_ONLY,
        message,
        "Sign in with an account of the organisation that owns the Google Cloud project, or create the project under the mailbox's own Workspace organisation; to admit outside accounts, set Google Cloud Console > APIs & Services > OAuth consent screen > Audience > User type to External.",
    )
}

pub(super) fn consent_required(p: ProviderKind, said: &str) -> Diagnosis {
    let hint = p.pick(
        "Authorize the server again and tick every permission on Google's consent screen.",
        "Authorize the server again and accept the permissions; if users may not consent in your tenant, an admin grants them in Microsoft Entra admin center > App registrations > (your app) > API permissions > Grant admin consent.",
        "Authorize the server again and accept every permission.",
    );
    let message = with_said(
        "The account has not granted the app the permissions mailgate asks for.",
        said,
    );
    Diagnosis::new(CONSENT_REQUIRED, message, hint)
}

pub(super) fn admin_consent_required(said: &str) -> Diagnosis {
    let message = with_said(
        "The permissions the app asks for need an administrator's consent in this tenant.",
        said,
    );
    Diagnosis::new(
        ADMIN_CONSENT_REQUIRED,
        message,
        "Have an admin open Microsoft Entra admin center > App registrations > (your app) > API permissions and click Grant admin consent for the tenant, then authorize the server again.",
    )
}

pub(super) fn interaction_required(said: &str) -> Diagnosis {
    let message = with_said(
        "The provider wants the user to sign in interactively (a multi-factor prompt, a password change or a new sign-in policy), which mailgate cannot do in the background.",
        said,
    );
    Diagnosis::new(
        INTERACTION_REQUIRED,
        message,
        "Authorize the server again and complete every prompt; if it recurs on every refresh, review the policy that demands it (Microsoft Entra admin center > Protection > Conditional Access, sign-in frequency).",
    )
}

pub(super) fn request_invalid(said: &str) -> Diagnosis {
    let message = with_said("The provider found the OAuth request malformed.", said);
    Diagnosis::new(
        REQUEST_INVALID,
        message,
        "Check the OAuth app's authorization and token URLs (Microsoft: the /oauth2/v2.0/ endpoints) and that [server] base_url is https:// unless mailgate runs on localhost, then authorize again; quote the provider's words above when asking for help.",
    )
}

pub(super) fn unavailable(p: ProviderKind, said: &str) -> Diagnosis {
    let hint = p.pick(
        "Nothing to change: mailgate retries with backoff. If it lasts, check the Google Workspace Status Dashboard (https://www.google.com/appsstatus).",
        "Nothing to change: mailgate retries with backoff. If it lasts, check Microsoft 365 admin center > Health > Service health.",
        "Nothing to change: mailgate retries with backoff. If it lasts, check the provider's status page.",
    );
    let message = with_said("The provider is temporarily unable to answer.", said);
    Diagnosis::new(SERVICE_UNAVAILABLE, message, hint)
}

pub(super) fn rate_limited(said: &str) -> Diagnosis {
    let message = with_said(
        "The provider is limiting how often mailgate may call it.",
        said,
    );
    Diagnosis::new(
        RATE_LIMITED,
        message,
        "Nothing to change: mailgate waits and retries with backoff. If it persists, lower the number of servers polling this account or lengthen their polling interval.",
    )
}

pub(super) fn unknown(p: ProviderKind, said: &str) -> Diagnosis {
    let message = with_said(
        &format!(
            "{} refused the OAuth request for a reason mailgate does not recognise.",
            p.display_name()
        ),
        said,
    );
    Diagnosis::new(
        OAUTH_ERROR,
        message,
        "Compare the OAuth app in mailgate (client ID, secret, authorization and token URLs, scopes) with the provider's console, look the error above up in the provider's documentation, and authorize again.",
    )
}
