//! Microsoft Entra ID (AADSTS) numbers: Microsoft's `error` names are broad (most failures are
//! `invalid_grant` or `invalid_request`), while the `AADSTSnnnnn:` prefix of the description
//! names the cause. Numbers are looked up first; unknown ones fall back to the `error` name.

use super::catalog::*;
use super::grant::{account_not_found, code_invalid, grant_revoked, pkce_mismatch};
use super::{Diagnosis, ProviderKind, advice};

const MS: ProviderKind = ProviderKind::Microsoft;

/// The diagnosis for the AADSTS number in `description`, if it is one the catalog knows.
pub(super) fn diagnose(description: &str, said: &str) -> Option<Diagnosis> {
    let d = match aadsts_number(description)? {
        // Refresh token idle for 90 days, SPA token lifetime, revoked after a password reset.
        70008 | 700082 | 700084 | 50173 | 50132 | 50133 => grant_revoked(MS, said),
        54005 => code_invalid(said),
        50148 | 501481 => pkce_mismatch(said),
        65001 => advice::consent_required(MS, said),
        65004 => advice::access_denied(MS, said),
        90094 => advice::admin_consent_required(said),
        // MFA required, password expired, external security challenge.
        50076 | 50078 | 50079 | 50055 | 50158 => advice::interaction_required(said),
        53000..=53003 => conditional_access(said),
        7000215 | 7000218 => advice::client_secret_invalid(MS, said),
        7000222 => advice::client_secret_expired(MS, said),
        700016 | 7000112 => advice::client_not_found(MS, said),
        50011 | 500113 => advice::redirect_uri_mismatch(MS, said),
        9002327 => redirect_uri_wrong_platform(said),
        50034 => account_not_found(MS, said),
        50057 | 50053 => account_disabled(MS, said),
        50020 | 90072 => user_not_in_tenant(said),
        50194 => single_tenant_app(said),
        50105 => user_not_assigned(said),
        500011 => resource_not_found(said),
        70011 | 650053 => advice::scope_invalid(MS, said),
        9002313 | 900144 => advice::request_invalid(said),
        _ => return None,
    };
    Some(d)
}

/// `AADSTS700082: The refresh token ...` -> 700082.
pub(super) fn aadsts_number(description: &str) -> Option<u32> {
    let at = description.find("AADSTS")?;
    let digits: String = description[at + "AADSTS".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .take(9)
        .collect();
    digits.parse().ok()
}

pub(super) fn account_type_unsupported(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The app registration does not accept this kind of account: personal Microsoft accounts (outlook.com, hotmail.com) and work accounts need an app registered for them.",
        said,
    );
    Diagnosis::new(
        ACCOUNT_TYPE_UNSUPPORTED,
        message,
        "In Microsoft Entra admin center > App registrations > (your app) > Authentication > Supported account types, choose a type that includes this account (personal accounts need \"... and personal Microsoft accounts\"), or sign in with a work account of the app's tenant.",
    )
}

/// Also used for IMAP `[CONTACTADMIN]` replies, whose usual cause is the same.
pub(super) fn account_disabled(p: ProviderKind, said: &str) -> Diagnosis {
    let hint = p.pick(
        "Check the user's status in Google Workspace Admin console > Directory > Users (restore a suspended user), or choose another mailbox.",
        "Check the user in Microsoft Entra admin center > Users > (the user): Account enabled must be on and the account not locked; or choose another mailbox.",
        "Ask the mailbox's administrator to re-enable or unlock the account, or choose another mailbox.",
    );
    let message = advice::with_said(
        "The account is disabled, suspended or locked by its administrator.",
        said,
    );
    Diagnosis::new(ACCOUNT_DISABLED, message, hint)
}

fn conditional_access(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "A Microsoft Entra Conditional Access policy blocked the sign-in (location, device or app rules).",
        said,
    );
    Diagnosis::new(
        CONDITIONAL_ACCESS,
        message,
        "Find the policy in Microsoft Entra admin center > Monitoring & health > Sign-in logs (Conditional Access tab), then exclude this app or allow the mailgate server's location in Protection > Conditional Access; authorize again.",
    )
}

fn redirect_uri_wrong_platform(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The redirect URI is registered as a single-page application, whose codes Microsoft only redeems from a browser, not from a server like mailgate.",
        said,
    );
    Diagnosis::new(
        REDIRECT_URI_WRONG_PLATFORM,
        message,
        format!(
            "In Microsoft Entra admin center > App registrations > (your app) > Authentication, remove {} from Single-page application and add it under Web; then authorize again.",
            super::REDIRECT_URI_PLACEHOLDER
        ),
    )
}

fn user_not_in_tenant(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The account that signed in does not belong to the tenant the app is registered in.",
        said,
    );
    Diagnosis::new(
        USER_NOT_IN_TENANT,
        message,
        "Sign in with an account of the app's tenant (or invite the user as a guest); to accept accounts of other tenants, set Microsoft Entra admin center > App registrations > (your app) > Authentication > Supported account types to multitenant.",
    )
}

fn single_tenant_app(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The app is registered for a single tenant but mailgate used the multi-tenant /common endpoint.",
        said,
    );
    Diagnosis::new(
        SINGLE_TENANT_APP,
        message,
        "Replace common in the OAuth app's authorization and token URLs with your tenant ID or domain (https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize and .../token), or make the app multitenant under App registrations > (your app) > Authentication.",
    )
}

fn user_not_assigned(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The app requires user assignment and the user who signed in is not assigned to it.",
        said,
    );
    Diagnosis::new(
        USER_NOT_ASSIGNED,
        message,
        "Assign the user in Microsoft Entra admin center > Enterprise applications > (your app) > Users and groups > Add user/group, or set Properties > Assignment required to No; then authorize again.",
    )
}

fn resource_not_found(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The tenant does not know the resource the token is for, which usually means it has no Exchange Online.",
        said,
    );
    Diagnosis::new(
        RESOURCE_NOT_FOUND,
        message,
        "Check that the mailbox has an Exchange Online licence (Microsoft 365 admin center > Users > Active users > (the user) > Licenses and apps) and that every scope starts with https://outlook.office.com/; then authorize again.",
    )
}
