//! Every code the catalog can produce, with its severity and a one-line meaning.
//!
//! A code is fixed to one severity here, so callers (and metrics) can rely on the code alone.
//! `mailgate doctor` lists this table; tests check that the codes are snake_case, unique, and
//! that every entry is produced by at least one known input.

use super::Severity;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One line of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Entry {
    #[schema(value_type = String)]
    pub code: Code,
    pub severity: Severity,
    /// What the code means, in one sentence.
    pub summary: &'static str,
}

/// The entry for a code as it is written on the wire, e.g. for `mailgate doctor explain CODE`
/// or a diagnosis read back from the database.
pub fn lookup(code: &str) -> Option<&'static Entry> {
    CATALOG.iter().find(|e| e.code.as_str() == code)
}

impl Code {
    /// The code as it is written on the wire (a stable snake_case word).
    pub fn parse(code: &str) -> Option<Code> {
        lookup(code).map(|e| e.code)
    }

    /// The severity every diagnosis with this code has.
    pub fn severity(self) -> Severity {
        self.entry().severity
    }
}

impl From<Entry> for Code {
    fn from(entry: Entry) -> Self {
        entry.code
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Read back as written (a stored diagnosis); a code the catalog does not list is an error.
impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Code::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown code `{text}`")))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Comparing with the wire form, as tests and logs read codes.
impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.as_str()
    }
}

/// Declares [`Code`], one constant [`Entry`] per code, and [`CATALOG`], so that a code cannot
/// exist without its entry and an entry cannot exist without being listed.
macro_rules! catalog {
    ($($name:ident: $variant:ident = $code:literal, $severity:ident, $summary:literal;)*) => {
        /// Every failure mailgate names. Decisions match on it; the wire carries [`Code::as_str`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Code {
            $(#[doc = $summary] $variant,)*
        }

        impl Code {
            /// Every code, in the order of the catalog.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The code as it is written on the wire (API answers, events, logs, metrics).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $code,)*
                }
            }

            /// The catalog's line for this code.
            pub const fn entry(self) -> Entry {
                match self {
                    $(Code::$variant => $name,)*
                }
            }
        }

        $(pub(crate) const $name: Entry = Entry {
            code: Code::$variant,
            severity: Severity::$severity,
            summary: $summary,
        };)*
        /// Every code, in the order of the areas.
        pub static CATALOG: &[Entry] = &[$($name),*];
    };
}

catalog! {
    // OAuth grants and authorization codes.
    GRANT_REVOKED: OauthGrantRevoked = "oauth_grant_revoked", Reauthorize,
        "The refresh token expired or was revoked; the mailbox must be authorized again.";
    CODE_INVALID: OauthCodeInvalid = "oauth_code_invalid", Reauthorize,
        "The authorization code was already used or expired before it was exchanged.";
    REAUTHENTICATION_REQUIRED: OauthReauthenticationRequired = "oauth_reauthentication_required", Reauthorize,
        "A session-control policy (Google's invalid_rapt) wants the user to sign in again.";
    SCOPE_NOT_GRANTED: OauthScopeNotGranted = "oauth_scope_not_granted", Reauthorize,
        "The user signed in but did not grant the permission to read and send mail.";
    EMAIL_UNVERIFIED: OauthEmailUnverified = "oauth_email_unverified", Reauthorize,
        "The provider has not verified the email address of the account that signed in.";
    PKCE_MISMATCH: OauthPkceMismatch = "oauth_pkce_mismatch", Reauthorize,
        "The PKCE code verifier did not match the sign-in that produced the code.";
    ACCOUNT_MISMATCH: OauthAccountMismatch = "oauth_account_mismatch", Reauthorize,
        "Someone signed in with another account than the server's mailbox.";
    ACCESS_DENIED: OauthAccessDenied = "oauth_access_denied", Reauthorize,
        "Consent was refused, or the app is in Testing and the user is not a test user.";
    CONSENT_REQUIRED: OauthConsentRequired = "oauth_consent_required", Reauthorize,
        "The user (or an admin) has not consented to the app's permissions.";
    INTERACTION_REQUIRED: OauthInteractionRequired = "oauth_interaction_required", Reauthorize,
        "The provider needs an interactive sign-in (MFA, password change, new policy).";
    // OAuth clients and apps.
    CLIENT_NOT_FOUND: OauthClientNotFound = "oauth_client_not_found", Permanent,
        "The OAuth client ID does not exist, was deleted or is disabled.";
    CLIENT_SECRET_INVALID: OauthClientSecretInvalid = "oauth_client_secret_invalid", Permanent,
        "The OAuth client secret is wrong or missing.";
    CLIENT_SECRET_EXPIRED: OauthClientSecretExpired = "oauth_client_secret_expired", Permanent,
        "The OAuth client secret has expired.";
    CLIENT_INVALID: OauthClientInvalid = "oauth_client_invalid", Permanent,
        "The provider rejected the OAuth client's authentication.";
    CLIENT_UNAUTHORIZED: OauthClientUnauthorized = "oauth_client_unauthorized", Permanent,
        "The OAuth client is not allowed to use this kind of grant.";
    TOKEN_WRONG_CLIENT: OauthTokenWrongClient = "oauth_token_wrong_client", Reauthorize,
        "The refresh token was issued to another OAuth client than the one configured.";
    ACCOUNT_TYPE_UNSUPPORTED: OauthAccountTypeUnsupported = "oauth_account_type_unsupported", Permanent,
        "The app registration does not accept this kind of account (personal vs work).";
    SCOPE_INVALID: OauthScopeInvalid = "oauth_scope_invalid", Permanent,
        "A requested scope is unknown or not allowed for this app.";
    REDIRECT_URI_MISMATCH: OauthRedirectUriMismatch = "oauth_redirect_uri_mismatch", Permanent,
        "The redirect URI is not registered exactly as mailgate sends it.";
    REDIRECT_URI_WRONG_PLATFORM: OauthRedirectUriWrongPlatform = "oauth_redirect_uri_wrong_platform", Permanent,
        "The redirect URI is registered under the wrong platform type (SPA instead of Web).";
    APP_TESTING_USER: OauthAppTestingUserNotListed = "oauth_app_testing_user_not_listed", Permanent,
        "The app is in Testing and the signed-in user is not one of its test users.";
    APP_INTERNAL_ONLY: OauthAppInternalOnly = "oauth_app_internal_only", Permanent,
        "The app is limited to its own organisation and the user is outside it.";
    ADMIN_POLICY: OauthBlockedByAdminPolicy = "oauth_blocked_by_admin_policy", Permanent,
        "An organisation policy blocks this app from the account's data.";
    ADMIN_CONSENT_REQUIRED: OauthAdminConsentRequired = "oauth_admin_consent_required", Permanent,
        "Only an administrator can grant the permissions the app asks for.";
    GRANT_TYPE_UNSUPPORTED: OauthGrantTypeUnsupported = "oauth_grant_type_unsupported", Permanent,
        "The token endpoint does not support the grant type mailgate used.";
    REQUEST_INVALID: OauthRequestInvalid = "oauth_request_invalid", Permanent,
        "The provider found the OAuth request malformed.";
    OAUTH_ERROR: OauthError = "oauth_error", Permanent,
        "The provider refused the OAuth request for a reason the catalog does not know.";
    // Accounts, service accounts and tenants.
    ACCOUNT_NOT_FOUND: AccountNotFound = "account_not_found", Permanent,
        "The account behind the grant no longer exists.";
    ACCOUNT_DISABLED: AccountDisabled = "account_disabled", Permanent,
        "The account is disabled, suspended or blocked by its administrator.";
    DELEGATED_USER_NOT_FOUND: DelegatedUserNotFound = "delegated_user_not_found", Permanent,
        "The mailbox a service account impersonates is not a user of the Workspace domain.";
    DELEGATION_NOT_GRANTED: DelegationNotGranted = "delegation_not_granted", Permanent,
        "Domain-wide delegation is missing for the service account's client ID or a scope.";
    SERVICE_ACCOUNT_KEY_INVALID: ServiceAccountKeyInvalid = "service_account_key_invalid", Permanent,
        "The service account key was deleted, disabled or replaced.";
    CLOCK_SKEW: SystemClockSkew = "system_clock_skew", Permanent,
        "This machine's clock is too far from the provider's for signed assertions.";
    CONDITIONAL_ACCESS: ConditionalAccessBlocked = "conditional_access_blocked", Permanent,
        "A Conditional Access policy blocked the sign-in.";
    USER_NOT_IN_TENANT: MicrosoftUserNotInTenant = "microsoft_user_not_in_tenant", Permanent,
        "The account does not belong to the tenant the app is registered in.";
    SINGLE_TENANT_APP: MicrosoftSingleTenantApp = "microsoft_single_tenant_app", Permanent,
        "A single-tenant app was used through the multi-tenant /common endpoint.";
    USER_NOT_ASSIGNED: MicrosoftUserNotAssigned = "microsoft_user_not_assigned", Permanent,
        "The app requires user assignment and the user is not assigned.";
    RESOURCE_NOT_FOUND: MicrosoftResourceNotFound = "microsoft_resource_not_found", Permanent,
        "The tenant has no Exchange Online (the token's resource is unknown to it).";
    // Access tokens as mail servers and APIs see them.
    TOKEN_REJECTED: AccessTokenRejected = "access_token_rejected", Transient,
        "The access token was refused; refresh it and retry once.";
    SCOPE_INSUFFICIENT: TokenScopeInsufficient = "token_scope_insufficient", Reauthorize,
        "The access token lacks a scope the service needs (or names another user).";
    CHALLENGE_UNREADABLE: SaslChallengeUnreadable = "sasl_challenge_unreadable", Permanent,
        "The server's SASL failure challenge could not be read.";
    // Mail server login replies.
    AUTH_FAILED: AuthFailed = "auth_failed", Reauthorize,
        "The mail server rejected the login.";
    MICROSOFT_AUTH_FAILED: MicrosoftAuthFailed = "microsoft_auth_failed", Permanent,
        "Exchange Online rejected the OAuth login without saying why.";
    APP_PASSWORD_REQUIRED: AppPasswordRequired = "app_password_required", Permanent,
        "The account has 2-Step Verification and a plain password was used.";
    WEB_LOGIN_REQUIRED: WebLoginRequired = "web_login_required", Permanent,
        "The provider blocked a password login and wants a browser sign-in.";
    BASIC_AUTH_DISABLED: MicrosoftBasicAuthDisabled = "microsoft_basic_auth_disabled", Permanent,
        "Microsoft disabled password (basic) authentication for this tenant or mailbox.";
    SMTP_AUTH_DISABLED: MicrosoftSmtpAuthDisabled = "microsoft_smtp_auth_disabled", Permanent,
        "Authenticated SMTP (SMTP AUTH) is turned off for the tenant or the mailbox.";
    IMAP_DISABLED: ImapDisabled = "imap_disabled", Permanent,
        "IMAP access is turned off for the account.";
    POP_DISABLED: PopDisabled = "pop_disabled", Permanent,
        "POP access is turned off for the account.";
    SMTP_REJECTED: SmtpRejected = "smtp_rejected", Permanent,
        "The SMTP server refused the sender, a recipient or the message.";
    MAILBOX_NOT_ACCESSIBLE: MailboxNotAccessible = "mailbox_not_accessible", Permanent,
        "The login worked but that account may not open the requested mailbox.";
    STARTTLS_REQUIRED: StarttlsRequired = "starttls_required", Permanent,
        "The server refuses to log in before the connection is encrypted.";
    MECHANISM_UNSUPPORTED: AuthMechanismUnsupported = "auth_mechanism_unsupported", Permanent,
        "The server does not offer the authentication mechanism mailgate used.";
    TOO_MANY_CONNECTIONS: TooManyConnections = "too_many_connections", Transient,
        "The account has too many simultaneous connections open.";
    LOGIN_RATE_LIMITED: LoginRateLimited = "login_rate_limited", Transient,
        "Too many login attempts in a short time.";
    POP_IN_USE: PopMailboxInUse = "pop_mailbox_in_use", Transient,
        "Another POP3 session holds the mailbox lock.";
    BANDWIDTH_LIMIT: BandwidthLimitExceeded = "bandwidth_limit_exceeded", Transient,
        "The account used up its daily IMAP/POP download or upload allowance.";
    SENDING_LIMIT: SendingLimitExceeded = "sending_limit_exceeded", Transient,
        "The account reached its daily sending limit.";
    SERVICE_UNAVAILABLE: ServiceUnavailable = "service_unavailable", Transient,
        "The provider or mail server is temporarily unavailable.";
    RATE_LIMITED: RateLimited = "rate_limited", Transient,
        "Too many requests in a short time; slow down and retry.";
    // Gmail API.
    GMAIL_API_DISABLED: GmailApiDisabled = "gmail_api_disabled", Permanent,
        "The Gmail API is not enabled in the Google Cloud project.";
    GMAIL_SERVICE_NOT_ENABLED: GmailServiceNotEnabled = "gmail_service_not_enabled", Permanent,
        "The account has no Gmail mailbox (Gmail service off or no licence).";
    GMAIL_PRECONDITION: GmailPreconditionFailed = "gmail_precondition_failed", Permanent,
        "Gmail refused the call on this account (usually a service account acting as itself).";
    GMAIL_DELEGATION_DENIED: GmailDelegationDenied = "gmail_delegation_denied", Permanent,
        "The token's account may not act for the mailbox named in the request.";
    DAILY_QUOTA: DailyQuotaExceeded = "daily_quota_exceeded", Transient,
        "A daily API quota is used up; it resets within 24 hours.";
    GMAIL_FORBIDDEN: GmailApiForbidden = "gmail_api_forbidden", Permanent,
        "The Gmail API refused the request.";
    GMAIL_INVALID_REQUEST: GmailApiInvalidRequest = "gmail_api_invalid_request", Permanent,
        "The Gmail API found the request or the message invalid.";
    MESSAGE_TOO_LARGE: MessageTooLarge = "message_too_large", Permanent,
        "The message is larger than the provider accepts.";
    GMAIL_API_ERROR: GmailApiError = "gmail_api_error", Permanent,
        "The Gmail API failed for a reason the catalog does not know.";
    // Servers as mailgate is configured to use them.
    SERVER_DISABLED: ServerDisabled = "server_disabled", Permanent,
        "The server is disabled in mailgate; the primary sends in its place.";
    NO_OUTGOING_SERVER: NoOutgoingServer = "no_outgoing_server", Permanent,
        "No outgoing server can send: the one asked for is gone and none is primary.";
    SERVER_MISCONFIGURED: ServerMisconfigured = "server_misconfigured", Permanent,
        "The server's configuration in mailgate cannot be used as it is (missing password, app or account).";
    // Network and TLS.
    DNS: DnsLookupFailed = "dns_lookup_failed", Transient,
        "The server's host name could not be resolved.";
    REFUSED: ConnectionRefused = "connection_refused", Transient,
        "Nothing accepted the connection on that host and port.";
    TIMEOUT: ConnectionTimeout = "connection_timeout", Transient,
        "The server did not answer in time.";
    CLOSED: ConnectionClosed = "connection_closed", Transient,
        "The server closed the connection unexpectedly.";
    PROXY: ProxyFailed = "proxy_failed", Transient,
        "The configured proxy could not open the connection.";
    TLS: TlsHandshakeFailed = "tls_handshake_failed", Permanent,
        "The TLS handshake failed.";
    TLS_UNKNOWN_ISSUER: TlsUntrustedCertificate = "tls_untrusted_certificate", Permanent,
        "The server's certificate is signed by an authority mailgate does not trust.";
    TLS_NAME_MISMATCH: TlsNameMismatch = "tls_name_mismatch", Permanent,
        "The server's certificate is for another host name.";
    TLS_EXPIRED: TlsCertificateExpired = "tls_certificate_expired", Permanent,
        "The server's certificate is expired or not yet valid.";
    // mailgate's own state: sign-ins, grants and the database. Raised by the core crate, which
    // builds these diagnoses itself (see `RAISED_IN_CORE`).
    INTERNAL: Internal = "internal", Transient,
        "mailgate itself failed (its database or a bug); the server log has the details.";
    SERVER_GONE: ServerGone = "server_gone", Permanent,
        "The server a sign-in was for no longer exists or no longer uses an OAuth app.";
    NO_REFRESH_TOKEN: NoRefreshToken = "no_refresh_token", Permanent,
        "The provider granted access without a refresh token, so access would end within the hour.";
    ACCOUNT_UNKNOWN: AccountUnknown = "account_unknown", Permanent,
        "The provider did not say which account signed in.";
    TOKEN_ENDPOINT_UNREADABLE: TokenEndpointUnreadable = "token_endpoint_unreadable", Permanent,
        "The token endpoint answered with something that is not an OAuth2 answer.";
    SERVICE_ACCOUNT_KEY_UNUSABLE: ServiceAccountKeyUnusable = "service_account_key_unusable", Permanent,
        "The service account's key in mailgate cannot sign an assertion.";
    STATE_EXPIRED: OauthStateExpired = "oauth_state_expired", Permanent,
        "The sign-in link is older than its 10 minutes.";
    STATE_REUSED: OauthStateReused = "oauth_state_reused", Permanent,
        "The sign-in link was already used.";
    STATE_INVALID: OauthStateInvalid = "oauth_state_invalid", Permanent,
        "The sign-in did not start from mailgate (its state is missing or unknown).";
    AUTHORIZATION_REQUIRED: AuthorizationRequired = "authorization_required", Reauthorize,
        "No account has signed in and consented for this mailbox yet, or its grant was dropped.";
    NEEDS_REAUTHORIZATION: NeedsReauthorization = "needs_reauthorization", Reauthorize,
        "The credential was marked as needing a new sign-in, without a recorded reason.";
    CREDENTIAL_FAILED: CredentialFailed = "credential_failed", Permanent,
        "The credential stopped working, without a recorded reason.";
}

/// The codes whose diagnoses the core crate builds (the sign-in, the grants, its database);
/// the areas of this module build all the others. The core crate's tests produce each of them.
pub const RAISED_IN_CORE: &[Code] = &[
    Code::Internal,
    Code::ServerGone,
    Code::NoRefreshToken,
    Code::AccountUnknown,
    Code::TokenEndpointUnreadable,
    Code::ServiceAccountKeyUnusable,
    Code::OauthStateExpired,
    Code::OauthStateReused,
    Code::OauthStateInvalid,
    Code::AuthorizationRequired,
    Code::NeedsReauthorization,
    Code::CredentialFailed,
];
