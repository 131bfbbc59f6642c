//! Verdicts on a grant that more than one reading of a provider's answer reaches: the generic
//! OAuth reading (`oauth.rs`) and Microsoft's AADSTS codes (`microsoft.rs`) both end here.

use super::catalog::*;
use super::{Diagnosis, ProviderKind, advice};

pub(super) fn grant_revoked(p: ProviderKind, said: &str) -> Diagnosis {
    let hint = p.pick(
        "Authorize the server again. To stop it recurring: an app whose OAuth consent screen is External and in Testing gets refresh tokens that die after 7 days, so publish it (APIs & Services > OAuth consent screen > Audience > Publish app) or make it Internal for a Workspace domain; Google also revokes the token when the user changes the password, removes the app at myaccount.google.com > Security > Your connections to third-party apps, leaves it unused for 6 months, or holds too many (about 50) tokens for the same client.",
        "Authorize the server again. Microsoft ends a refresh token after 90 days without use, on a password reset, or when an admin revokes the user's sessions; mailgate keeps the new refresh token returned by each refresh, so an unused or revoked grant is the usual cause.",
        "Authorize the server again; the provider expired or revoked the grant (password change, revocation by the user, or inactivity).",
    );
    let message = advice::with_said(
        "The refresh token no longer works: it expired or was revoked, so mailgate cannot get access tokens for this mailbox.",
        said,
    );
    Diagnosis::new(GRANT_REVOKED, message, hint)
}

pub(super) fn code_invalid(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The authorization code could not be exchanged for tokens: it was already used, or it expired (codes live a few minutes).",
        said,
    );
    Diagnosis::new(
        CODE_INVALID,
        message,
        "Start the sign-in again from mailgate and finish it within a few minutes in the same browser tab; do not reload or bookmark the callback page.",
    )
}

pub(super) fn pkce_mismatch(said: &str) -> Diagnosis {
    let message = advice::with_said(
        "The sign-in could not be completed because the PKCE code verifier did not match the one that started it (the sign-in was started twice, or the callback reached another mailgate instance).",
        said,
    );
    Diagnosis::new(
        PKCE_MISMATCH,
        message,
        "Start the sign-in again from mailgate and finish it in the same browser tab; when several mailgate nodes serve the callback, make sure they share one database.",
    )
}

pub(super) fn account_not_found(p: ProviderKind, said: &str) -> Diagnosis {
    let hint = p.pick(
        "Check that the service account still exists in Google Cloud Console > IAM & Admin > Service Accounts (upload a key of a live one) and that the mailbox exists in Google Workspace Admin console > Directory > Users; then authorize again or correct the server's email.",
        "Check that the user exists in Microsoft Entra admin center > Users > All users and that the server's email is that user's sign-in name; then authorize again.",
        "Check that the account still exists at the provider, then authorize again or correct the server's email.",
    );
    let message = advice::with_said(
        "The account behind this grant does not exist any more: the service account or the user who authorized was deleted.",
        said,
    );
    Diagnosis::new(ACCOUNT_NOT_FOUND, message, hint)
}
