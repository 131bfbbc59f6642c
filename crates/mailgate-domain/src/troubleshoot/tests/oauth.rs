//! Known answers for the token endpoint, the OAuth callback and the account check.

use super::super::microsoft::aadsts_number;
use super::super::*;
use super::{P, R, T, check};
use ProviderKind::{Google as G, Microsoft as M};

type TokenCase = (
    ProviderKind,
    u16,
    &'static str,
    Option<&'static str>,
    &'static str,
    Severity,
    &'static [&'static str],
);

#[rustfmt::skip]
const TOKEN: &[TokenCase] = &[
    (G, 400, "invalid_grant", Some("Token has been expired or revoked."), "oauth_grant_revoked", R, &["7 days", "Testing", "password", "6 months", "Publish app"]),
    (G, 400, "invalid_grant", Some("Bad Request"), "oauth_code_invalid", R, &["sign-in again"]),
    (G, 400, "invalid_grant", Some("Invalid JWT Signature."), "service_account_key_invalid", P, &["Keys > Add key", "upload"]),
    (G, 400, "invalid_grant", Some("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim."), "system_clock_skew", P, &["NTP"]),
    (G, 400, "invalid_grant", Some("account not found"), "account_not_found", P, &["Service Accounts", "Directory > Users"]),
    (G, 400, "invalid_grant", Some("Account has been deleted"), "account_not_found", P, &["Directory > Users"]),
    (G, 400, "invalid_grant", Some("Invalid email or User ID"), "delegated_user_not_found", P, &["primary address"]),
    (G, 400, "invalid_grant", Some("Invalid code verifier."), "oauth_pkce_mismatch", R, &["same browser tab"]),
    (G, 400, "invalid_grant", Some("reauth related error (invalid_rapt)"), "oauth_reauthentication_required", R, &["Authorize the server again", "Reauthentication policy"]),
    (G, 400, "internal_failure", Some("Backend Error"), "service_unavailable", T, &["retries"]),
    (G, 401, "invalid_client", Some("The OAuth client was not found."), "oauth_client_not_found", P, &["Credentials", ".apps.googleusercontent.com"]),
    (G, 401, "invalid_client", Some("Unauthorized"), "oauth_client_secret_invalid", P, &["Add secret"]),
    (G, 401, "invalid_client", None, "oauth_client_invalid", P, &["same client"]),
    (G, 401, "deleted_client", None, "oauth_client_not_found", P, &["Web application"]),
    (G, 401, "unauthorized_client", Some("Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested."), "delegation_not_granted", P, &["Security > Access and data control > API controls > Domain-wide delegation", "https://mail.google.com/", "client_id in its JSON key"]),
    (G, 400, "unauthorized_client", Some("Unauthorized"), "oauth_token_wrong_client", R, &["Authorize the server again"]),
    (G, 400, "unauthorized_client", None, "oauth_client_unauthorized", P, &["Web application"]),
    (G, 400, "invalid_scope", Some("Some requested scopes were invalid. {invalid=[https://mail.google.com]}"), "oauth_scope_invalid", P, &["Data Access > Add or remove scopes", "https://mail.google.com/"]),
    (G, 400, "invalid_request", Some("Invalid principal"), "delegated_user_not_found", P, &["Directory > Users"]),
    (G, 400, "invalid_request", Some("Missing required parameter: code"), "oauth_request_invalid", P, &["token URLs"]),
    (G, 400, "admin_policy_enforced", Some("Access blocked by admin"), "oauth_blocked_by_admin_policy", P, &["API controls", "Trusted"]),
    (G, 400, "access_denied", None, "oauth_access_denied", R, &["Audience > Test users"]),
    (G, 400, "consent_required", None, "oauth_consent_required", R, &["consent screen"]),
    (G, 400, "interaction_required", None, "oauth_interaction_required", R, &["Authorize the server again"]),
    (G, 400, "unsupported_grant_type", Some("Invalid grant_type: "), "oauth_grant_type_unsupported", P, &["https://oauth2.googleapis.com/token"]),
    (G, 400, "redirect_uri_mismatch", Some("Bad Request"), "oauth_redirect_uri_mismatch", P, &["Authorised redirect URIs", REDIRECT_URI_PLACEHOLDER]),
    (G, 503, "temporarily_unavailable", None, "service_unavailable", T, &["retries"]),
    (G, 500, "", None, "service_unavailable", T, &["Status Dashboard"]),
    (G, 429, "", None, "rate_limited", T, &["backoff"]),
    (G, 429, "temporarily_unavailable", None, "rate_limited", T, &["backoff"]),
    (G, 400, "weird_error", Some("Something odd"), "oauth_error", P, &["authorize again"]),
    (M, 400, "invalid_grant", Some("AADSTS700082: The refresh token has expired due to inactivity. The token was issued on 2023-03-24T14:58:04Z and was inactive for 90.00:00:00.\r\nTrace ID: 0000aaaa-11bb-cccc-dd22-eeeeee333333"), "oauth_grant_revoked", R, &["90 days"]),
    (M, 400, "invalid_grant", Some("AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token is needed."), "oauth_grant_revoked", R, &["password reset"]),
    (M, 400, "invalid_grant", Some("AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code."), "oauth_code_invalid", R, &["sign-in again"]),
    (M, 400, "invalid_grant", Some("AADSTS501481: The Code_Verifier does not match the code_challenge supplied in the authorization request."), "oauth_pkce_mismatch", R, &["same browser tab"]),
    (M, 400, "invalid_grant", Some("AADSTS65001: The user or administrator has not consented to use the application."), "oauth_consent_required", R, &["Grant admin consent"]),
    (M, 400, "invalid_grant", Some("AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication."), "oauth_interaction_required", R, &["Conditional Access"]),
    (M, 400, "invalid_grant", Some("AADSTS53003: Access has been blocked by Conditional Access policies."), "conditional_access_blocked", P, &["Sign-in logs"]),
    (M, 401, "invalid_client", Some("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID."), "oauth_client_secret_invalid", P, &["Value (not its Secret ID)"]),
    (M, 401, "invalid_client", Some("AADSTS7000222: The provided client secret keys for app '0000' are expired."), "oauth_client_secret_expired", P, &["Certificates & secrets"]),
    (M, 400, "unauthorized_client", Some("AADSTS700016: Application with identifier '0000' was not found in the directory 'contoso'."), "oauth_client_not_found", P, &["Application (client) ID"]),
    (M, 400, "invalid_request", Some("AADSTS50011: The redirect URI 'http://x/oauth/callback' specified in the request does not match the redirect URIs configured for the application."), "oauth_redirect_uri_mismatch", P, &["Authentication > Web > Redirect URIs"]),
    (M, 400, "invalid_request", Some("AADSTS9002327: Tokens issued for the 'Single-Page Application' client-type may only be redeemed via cross-origin requests."), "oauth_redirect_uri_wrong_platform", P, &["under Web"]),
    (M, 400, "invalid_grant", Some("AADSTS50034: The user account does not exist in the contoso directory."), "account_not_found", P, &["Entra admin center > Users"]),
    (M, 400, "invalid_grant", Some("AADSTS50057: The user account is disabled."), "account_disabled", P, &["Account enabled"]),
    (M, 400, "invalid_request", Some("AADSTS50020: User account 'a@b.example' from identity provider 'live.com' does not exist in tenant 'Contoso'."), "microsoft_user_not_in_tenant", P, &["Supported account types"]),
    (M, 400, "invalid_request", Some("AADSTS50194: Application '0000' is not configured as a multi-tenant application. Usage of the /common endpoint is not supported."), "microsoft_single_tenant_app", P, &["tenant ID"]),
    (M, 400, "invalid_grant", Some("AADSTS50105: Your administrator has configured the application to block users unless they are specifically granted ('assigned') access."), "microsoft_user_not_assigned", P, &["Users and groups"]),
    (M, 400, "invalid_resource", Some("AADSTS500011: The resource principal named https://outlook.office.com was not found in the tenant named Contoso."), "microsoft_resource_not_found", P, &["Exchange Online"]),
    (M, 400, "invalid_scope", Some("AADSTS70011: The provided value for the input parameter 'scope' isn't valid."), "oauth_scope_invalid", P, &["IMAP.AccessAsUser.All", "API permissions"]),
    (M, 400, "unauthorized_client", Some("The client does not exist or is not enabled for consumers."), "oauth_account_type_unsupported", P, &["Supported account types"]),
    (M, 400, "invalid_request", Some("AADSTS9002313: Invalid request. Request is malformed or invalid."), "oauth_request_invalid", P, &["v2.0"]),
];

type AuthCase = (
    ProviderKind,
    &'static str,
    Option<&'static str>,
    &'static str,
    Severity,
    &'static [&'static str],
);

#[rustfmt::skip]
const AUTHORIZE: &[AuthCase] = &[
    (G, "access_denied", None, "oauth_access_denied", R, &["Audience > Test users", "Allow", "Internal"]),
    (G, "access_denied", Some("App has not completed the Google verification process"), "oauth_app_testing_user_not_listed", P, &["Audience > Test users", "7 days"]),
    (ProviderKind::Generic, "access_denied", Some("tester not allowed"), "oauth_access_denied", R, &["accept every permission"]),
    (G, "invalid_scope", None, "oauth_scope_invalid", P, &["Data Access"]),
    (G, "redirect_uri_mismatch", None, "oauth_redirect_uri_mismatch", P, &[REDIRECT_URI_PLACEHOLDER, "base_url"]),
    (G, "admin_policy_enforced", None, "oauth_blocked_by_admin_policy", P, &["Manage third-party app access"]),
    (G, "org_internal", None, "oauth_app_internal_only", P, &["User type"]),
    (G, "invalid_client", Some("The OAuth client was not found."), "oauth_client_not_found", P, &["OAuth 2.0 Client IDs"]),
    (G, "unsupported_response_type", None, "oauth_client_unauthorized", P, &["Web application"]),
    (G, "invalid_request", Some("Invalid parameter value for redirect_uri: Non-public domains not allowed"), "oauth_redirect_uri_mismatch", P, &["Authorised redirect URIs"]),
    (G, "invalid_request", None, "oauth_request_invalid", P, &["https://"]),
    (G, "server_error", None, "service_unavailable", T, &["retries"]),
    (G, "temporarily_unavailable", None, "service_unavailable", T, &["retries"]),
    (G, "invalid_grant", None, "oauth_code_invalid", R, &["sign-in again"]),
    (G, "something_new", None, "oauth_error", P, &["authorize again"]),
    (G, "", None, "oauth_error", P, &["authorize again"]),
    (M, "consent_required", None, "oauth_consent_required", R, &["Grant admin consent"]),
    (M, "interaction_required", None, "oauth_interaction_required", R, &["complete every prompt"]),
    (M, "login_required", None, "oauth_interaction_required", R, &["complete every prompt"]),
    (M, "access_denied", Some("AADSTS65004: User declined to consent to access the app."), "oauth_access_denied", R, &["accept"]),
    (M, "invalid_request", Some("AADSTS90094: The grant requires admin permission."), "oauth_admin_consent_required", P, &["Grant admin consent"]),
    (M, "invalid_request", Some("AADSTS50011: The redirect URI does not match."), "oauth_redirect_uri_mismatch", P, &["Redirect URIs"]),
    (M, "unauthorized_client", Some("The client does not exist or is not enabled for consumers."), "oauth_account_type_unsupported", P, &["personal"]),
];

pub(super) fn produced() -> Vec<Diagnosis> {
    let mut out: Vec<Diagnosis> = TOKEN
        .iter()
        .map(|(p, s, e, d, ..)| token_endpoint_error(*p, *s, e, *d))
        .collect();
    out.extend(
        AUTHORIZE
            .iter()
            .map(|(p, e, d, ..)| authorization_error(*p, e, *d)),
    );
    out.push(account_mismatch("support@example.com", "someone@gmail.com"));
    out.push(scope_not_granted(G, "https://mail.google.com/", "openid"));
    out.push(email_unverified(G, "support@example.com"));
    out
}

#[test]
fn token_endpoint_known_answers() {
    for (p, status, error, desc, code, severity, keys) in TOKEN {
        let d = token_endpoint_error(*p, *status, error, *desc);
        check(
            &d,
            code,
            *severity,
            keys,
            &format!("{p:?} {status} {error} {desc:?}"),
        );
        if !error.is_empty() {
            assert!(
                d.message.contains(error),
                "provider words missing: {}",
                d.message
            );
        }
    }
}

#[test]
fn authorization_callback_known_answers() {
    for (p, error, desc, code, severity, keys) in AUTHORIZE {
        let d = authorization_error(*p, error, *desc);
        check(
            &d,
            code,
            *severity,
            keys,
            &format!("{p:?} {error} {desc:?}"),
        );
    }
}

#[test]
fn what_mailgate_asked_for_makes_hints_exact() {
    let request = TokenRequest {
        grant: Some(Grant::JwtBearer),
        client_id: Some("113579246801357924680"),
        scopes: &[
            "https://mail.google.com/",
            "https://www.googleapis.com/auth/gmail.send",
        ],
        redirect_uri: None,
    };
    let d = token_request_error(&request, G, 401, "unauthorized_client", None);
    check(
        &d,
        "delegation_not_granted",
        P,
        &[
            "113579246801357924680",
            "https://mail.google.com/,https://www.googleapis.com/auth/gmail.send",
        ],
        "jwt",
    );
    let d = token_request_error(&request, G, 400, "invalid_grant", Some("something new"));
    assert_eq!(d.code, "service_account_key_invalid");

    let uri = "https://mailgate.example.com/oauth/callback";
    let request = TokenRequest {
        grant: Some(Grant::AuthorizationCode),
        redirect_uri: Some(uri),
        ..TokenRequest::default()
    };
    let d = token_request_error(
        &request,
        M,
        400,
        "invalid_request",
        Some("AADSTS50011: mismatch"),
    );
    assert!(
        d.hint.contains(uri) && !d.hint.contains(REDIRECT_URI_PLACEHOLDER),
        "{}",
        d.hint
    );

    let request = TokenRequest {
        grant: Some(Grant::RefreshToken),
        ..TokenRequest::default()
    };
    let d = token_request_error(&request, G, 400, "invalid_grant", Some("Bad Request"));
    assert_eq!(d.code, "oauth_grant_revoked");
}

#[test]
fn a_refused_refresh_and_a_refused_code_are_told_apart() {
    let refresh = TokenRequest {
        grant: Some(Grant::RefreshToken),
        ..TokenRequest::default()
    };
    let code = TokenRequest {
        grant: Some(Grant::AuthorizationCode),
        ..TokenRequest::default()
    };
    for desc in ["Bad Request", "Token has been expired or revoked.", ""] {
        let d = token_request_error(&refresh, G, 400, "invalid_grant", Some(desc));
        assert_eq!(d.code, "oauth_grant_revoked", "{desc}");
        assert!(!d.message.contains("authorization code"), "{d:?}");
        let d = token_request_error(&code, G, 400, "invalid_grant", Some(desc));
        assert_eq!(d.code, "oauth_code_invalid", "{desc}");
        assert!(!d.message.contains("refresh token"), "{d:?}");
    }
    let d = token_request_error(
        &refresh,
        G,
        400,
        "invalid_grant",
        Some("reauth related error (invalid_rapt)"),
    );
    assert_eq!(d.code, "oauth_reauthentication_required");
    assert!(d.needs_reauthorization());
}

#[test]
fn consent_hints_speak_of_test_users_only_for_google() {
    for p in [M, ProviderKind::Generic] {
        for desc in [
            None,
            Some("The app is being tested by developer-approved testers"),
        ] {
            let d = authorization_error(p, "access_denied", desc);
            assert_eq!(d.code, "oauth_access_denied");
            let text = format!("{} {}", d.message, d.hint).to_lowercase();
            assert!(
                !text.contains("test user") && !text.contains("google"),
                "{p:?}: {text}"
            );
        }
    }
    let d = authorization_error(G, "access_denied", None);
    assert!(d.message.contains("test users"), "{d:?}");
}

#[test]
fn a_partial_grant_and_an_unverified_address_say_what_to_do() {
    let d = scope_not_granted(
        G,
        "https://mail.google.com/",
        "openid https://www.googleapis.com/auth/userinfo.email",
    );
    check(
        &d,
        "oauth_scope_not_granted",
        R,
        &[
            "Authorize the server again",
            "tick",
            "https://mail.google.com/",
        ],
        "partial",
    );
    assert!(
        d.message
            .starts_with("Not connected: the permission to read and send mail was not granted"),
        "{}",
        d.message
    );
    let d = email_unverified(ProviderKind::Generic, "support@example.com");
    check(&d, "oauth_email_unverified", R, &["Verify"], "unverified");
    assert!(d.message.contains("support@example.com"), "{}", d.message);
}

#[test]
fn callback_hints_take_the_exact_redirect_uri() {
    let uri = "https://mailgate.example.com/oauth/callback";
    let d = authorization_error(G, "redirect_uri_mismatch", None).with_redirect_uri(uri);
    assert!(
        d.hint.contains(&format!("add exactly {uri} and save")),
        "{}",
        d.hint
    );
    let unchanged = authorization_error(G, "access_denied", None);
    assert_eq!(unchanged.clone().with_redirect_uri(uri), unchanged);
}

#[test]
fn account_mismatch_names_both_accounts() {
    let d = account_mismatch("support@example.com", "someone@gmail.com");
    check(
        &d,
        "oauth_account_mismatch",
        R,
        &["support@example.com", "private browser window"],
        "mismatch",
    );
    assert!(d.message.contains("someone@gmail.com") && d.message.contains("support@example.com"));
    let d = account_mismatch("", "");
    assert!(
        d.message.contains("the server's email address"),
        "{}",
        d.message
    );
}

#[test]
fn aadsts_numbers_are_read_from_descriptions() {
    assert_eq!(
        aadsts_number("AADSTS700082: The refresh token"),
        Some(700082)
    );
    assert_eq!(aadsts_number("error: AADSTS50011 mismatch"), Some(50011));
    assert_eq!(aadsts_number("AADSTS: none"), None);
    assert_eq!(aadsts_number("no number"), None);
    assert_eq!(aadsts_number("AADSTS99999999999999999"), Some(999_999_999));
}
