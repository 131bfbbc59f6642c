//! `GET /o/oauth2/v2/auth` and the consent decision: the part of the flow the user's browser sees.
//!
//! Problems Google cannot safely report to the redirect URI (unknown client, unregistered
//! redirect URI, bad parameters) are shown as an error page; the user's own answer (deny, or an
//! app in "Testing" refusing a non-test user) travels back on the redirect.

use std::sync::Arc;

use axum::Form;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::pages::{self, ConsentView, ErrorPage};
use super::params::Params;
use crate::scopes;
use crate::state::{
    AuthCode, CODE_LIFETIME_SECS, PendingAuth, Shared, State as EmulatorState, new_code,
};
use crate::types::{Decision, PublishingStatus};

/// How long a consent page stays answerable.
const PENDING_LIFETIME_SECS: i64 = 3600;

pub async fn authorize(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let params = Params::from_query(query.as_deref());
    let now = shared.clock.now();
    let mut state = shared.lock();
    state.counters.authorization_requests += 1;
    let pending = match validate(&state, &params, now) {
        Ok(pending) => pending,
        Err(page) => return page.into_response(),
    };
    if let Some(script) = state.scripted_consent.pop_front() {
        let answer = Answer {
            decision: script.decision,
            declined: &script.declined,
        };
        return decide(&mut state, &pending, &script.email, answer, now);
    }
    state
        .pending
        .retain(|_, p| p.created_at + PENDING_LIFETIME_SECS > now);
    let request_id = uuid::Uuid::new_v4().to_string();
    let page = pages::consent_page(&ConsentView {
        request_id: &request_id,
        client_id: &pending.client_id,
        scopes: &pending.scopes,
        email: pending.login_hint.as_deref(),
        notice: None,
    });
    state.pending.insert(request_id, pending);
    page
}

#[derive(Debug, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    request_id: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    decision: String,
}

pub async fn decision(
    State(shared): State<Arc<Shared>>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let now = shared.clock.now();
    let mut state = shared.lock();
    let Some(pending) = state
        .pending
        .get(&form.request_id)
        .filter(|p| p.created_at + PENDING_LIFETIME_SECS > now)
        .cloned()
    else {
        return ErrorPage::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "This sign-in request is unknown or has expired. Start again from the app.",
        )
        .into_response();
    };
    let decision = if form.decision.eq_ignore_ascii_case("allow") {
        Decision::Allow
    } else {
        Decision::Deny
    };
    let email = form.email.trim().to_ascii_lowercase();
    if decision == Decision::Allow && !looks_like_email(&email) {
        // Stay on the page, as Google does for a mistyped address.
        return pages::consent_page(&ConsentView {
            request_id: &form.request_id,
            client_id: &pending.client_id,
            scopes: &pending.scopes,
            email: Some(&form.email),
            notice: Some("Enter a valid email address."),
        });
    }
    state.pending.remove(&form.request_id);
    let answer = Answer {
        decision,
        declined: &[],
    };
    decide(&mut state, &pending, &email, answer, now)
}

/// Checks the authorization request in Google's order; the error is the page to show.
fn validate(state: &EmulatorState, params: &Params, now: i64) -> Result<PendingAuth, ErrorPage> {
    let bad = ErrorPage::invalid_request;
    let client_id = params
        .get("client_id")
        .ok_or_else(|| bad("Missing required parameter: client_id".to_owned()))?;
    let Some(client) = state.clients.get(client_id) else {
        return Err(ErrorPage::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        ));
    };
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or_else(|| bad("Missing required parameter: redirect_uri".to_owned()))?;
    if !client.redirect_uris.iter().any(|r| r == redirect_uri) {
        return Err(ErrorPage::new(
            StatusCode::BAD_REQUEST,
            "redirect_uri_mismatch",
            format!(
                "You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. \
                 The redirect URI in the request, {redirect_uri}, does not match the ones authorized for the OAuth client."
            ),
        ));
    }
    match params.get("response_type") {
        None => {
            return Err(bad(
                "Required parameter is missing: response_type".to_owned()
            ));
        }
        Some("code") => {}
        Some(other) => {
            return Err(bad(format!(
                "Unsupported response_type: {other}. The emulator supports the authorization code flow only."
            )));
        }
    }
    let requested = scopes::split(params.get("scope").unwrap_or_default());
    if requested.is_empty() {
        return Err(bad("Missing required parameter: scope".to_owned()));
    }
    let unknown = scopes::unknown(&requested);
    if !unknown.is_empty() {
        return Err(ErrorPage::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!(
                "Some requested scopes were invalid. {{invalid=[{}]}}",
                unknown.join(", ")
            ),
        ));
    }
    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) => None,
        (None, Some(_)) => return Err(bad("Missing code_challenge.".to_owned())),
        (Some(challenge), method) => {
            let method = method.unwrap_or("plain");
            if method != "S256" && method != "plain" {
                return Err(bad("Invalid code_challenge_method value.".to_owned()));
            }
            if !(43..=128).contains(&challenge.len()) {
                return Err(bad("Invalid code_challenge.".to_owned()));
            }
            Some((challenge.to_owned(), method.to_owned()))
        }
    };
    let offline = match params.get("access_type") {
        None | Some("online") => false,
        Some("offline") => true,
        Some(other) => return Err(bad(format!("Invalid access_type: {other}"))),
    };
    let prompt_consent = params
        .get("prompt")
        .is_some_and(|p| p.split_whitespace().any(|v| v == "consent"));
    Ok(PendingAuth {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        scopes: requested,
        state: params.get("state").map(str::to_owned),
        login_hint: params.get("login_hint").map(str::to_owned),
        code_challenge,
        offline,
        prompt_consent,
        nonce: params.get("nonce").map(str::to_owned),
        created_at: now,
    })
}

/// What the user answered: allow or deny, and the scopes unticked on an allow.
struct Answer<'a> {
    decision: Decision,
    declined: &'a [String],
}

/// Applies the user's answer and redirects back to the app.
fn decide(
    state: &mut EmulatorState,
    pending: &PendingAuth,
    email: &str,
    answer: Answer<'_>,
    now: i64,
) -> Response {
    let decision = answer.decision;
    let email = email.trim().to_ascii_lowercase();
    let Some(client) = state.clients.get(&pending.client_id) else {
        return ErrorPage::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        )
        .into_response();
    };
    if decision == Decision::Deny {
        return redirect(pending, &[("error", "access_denied")]);
    }
    let is_test_user = client
        .test_users
        .iter()
        .any(|u| u.eq_ignore_ascii_case(&email));
    if client.publishing_status == PublishingStatus::Testing && !is_test_user {
        let description = format!(
            "{} has not completed the Google verification process. The app is currently being tested, \
             and can only be accessed by developer-approved testers.",
            client.client_id
        );
        return redirect(
            pending,
            &[
                ("error", "access_denied"),
                ("error_description", &description),
            ],
        );
    }
    // Without prompt=consent, Google sends a refresh token only the first time a user grants
    // offline access to a client.
    let grant_key = (pending.client_id.clone(), email.clone());
    let issue_refresh_token =
        pending.offline && (pending.prompt_consent || !state.offline_grants.contains(&grant_key));
    let granted = scopes::without_declined(&scopes::normalize(&pending.scopes), answer.declined);
    // Signing in again is what a re-authentication policy asks for.
    state.reauth_required.remove(&email);
    let code = new_code();
    state.codes.retain(|_, c| c.expires_at > now && !c.used);
    state.codes.insert(
        code.clone(),
        AuthCode {
            client_id: pending.client_id.clone(),
            redirect_uri: pending.redirect_uri.clone(),
            email,
            scopes: granted.clone(),
            code_challenge: pending.code_challenge.clone(),
            issue_refresh_token,
            nonce: pending.nonce.clone(),
            expires_at: now + CODE_LIFETIME_SECS,
            used: false,
        },
    );
    redirect(
        pending,
        &[("code", &code), ("scope", &scopes::join(&granted))],
    )
}

/// 302 to the redirect URI with `pairs` and the app's `state` appended to its query.
fn redirect(pending: &PendingAuth, pairs: &[(&str, &str)]) -> Response {
    let location = match url::Url::parse(&pending.redirect_uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (name, value) in pairs {
                    query.append_pair(name, value);
                }
                if let Some(app_state) = &pending.state {
                    query.append_pair("state", app_state);
                }
            }
            url.to_string()
        }
        // A registered redirect URI that does not parse: show the answer instead.
        Err(_) => {
            return ErrorPage::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "The registered redirect URI is not a valid URL.",
            )
            .into_response();
        }
    };
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
}

fn looks_like_email(email: &str) -> bool {
    email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && domain.contains('.') && !domain.contains('@')
    }) && !email.contains(char::is_whitespace)
}
