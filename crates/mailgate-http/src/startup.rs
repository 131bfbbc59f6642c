//! The application: binds its listener (port 0 in tests), serves until the shutdown future
//! completes, then drains in-flight requests.

use crate::health::Health;
use crate::routes;
use crate::state::AppState;
use anyhow::Context;
use axum::Router;
use axum::routing::get;
use mailgate_core::Core;
use mailgate_core::config::Settings;
use std::net::SocketAddr;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    core: Arc<Core>,
    health: Arc<Health>,
    addr: SocketAddr,
    options: Options,
}

/// What tests change: the clock, and whether background workers run (tests drive them by hand).
#[derive(Clone)]
pub struct Options {
    pub clock: Arc<dyn mailgate_core::clock::Clock>,
    pub workers: bool,
    /// How often the token refresher looks for tokens due for renewal.
    pub refresh_every: std::time::Duration,
    /// How often the mailbox supervisor looks for added, changed or removed incoming servers
    /// on its own: a safety net (servers changed by another process), since every change made
    /// through this process wakes it at once.
    pub mailbox_check_every: std::time::Duration,
    /// Workers started with mailgate's own when `workers` is on (tests inject failing ones).
    pub extra_workers: Vec<mailgate_core::workers::Worker>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            clock: Arc::new(mailgate_core::clock::SystemClock),
            workers: true,
            refresh_every: std::time::Duration::from_secs(15),
            mailbox_check_every: std::time::Duration::from_secs(60),
            extra_workers: Vec::new(),
        }
    }
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with(settings, Options::default()).await
    }

    pub async fn build_with(mut settings: Settings, options: Options) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {} (server.listen)", settings.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        // A base URL derived from `listen` follows the port actually bound (port 0 in tests).
        if settings.base_url == format!("http://{}", settings.listen) {
            settings.base_url = format!("http://{addr}");
        }
        let core = Arc::new(Core::open_with(settings, options.clock.clone()).await?);
        let health = Arc::new(Health::default());
        let router = router(AppState {
            core: core.clone(),
            health: health.clone(),
        });
        Ok(Self {
            listener,
            router,
            core,
            health,
            addr,
            options,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn core(&self) -> Arc<Core> {
        self.core.clone()
    }

    /// The workers' and the store's health, as `/healthz` reports it.
    pub fn health(&self) -> Arc<Health> {
        self.health.clone()
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(
            listen = %self.addr,
            database = self.core.store.backend_name(),
            redirect_uri = %self.core.settings.redirect_uri(),
            "mailgate is serving; register the redirect URI at your OAuth provider"
        );
        let (stop_workers, workers_stopped) = tokio::sync::watch::channel(false);
        let workers = self.options.workers.then(|| {
            let mut all = mailgate_core::workers::standard(
                &self.core,
                &mailgate_core::workers::Intervals {
                    refresh_every: self.options.refresh_every,
                    mailbox_check_every: self.options.mailbox_check_every,
                    poll: self.core.settings.receive_poll_interval,
                },
            );
            all.extend(self.options.extra_workers.iter().cloned());
            mailgate_core::workers::spawn_all(all, self.health.clone(), workers_stopped)
        });
        self.health.started();
        let limits = self.core.settings.http.clone();
        crate::serve::serve(self.listener, self.router, limits, shutdown).await;
        self.health.stopping();
        let _ = stop_workers.send(true);
        // Bounded: the workers still running after `SHUTDOWN_GRACE` are logged and aborted.
        if let Some(workers) = workers
            && let Err(e) = workers.await
        {
            tracing::error!(error = %e, "the workers' supervisor ended abnormally");
        }
        tracing::info!("mailgate stopped");
        Ok(())
    }
}

pub fn router(state: AppState) -> Router {
    crate::metrics::handle();
    let (api, mut doc) = OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .nest("/api/v1", routes::api_router())
        .routes(utoipa_axum::routes!(routes::health::healthz))
        .routes(utoipa_axum::routes!(routes::health::readyz))
        .split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    utoipa::Modify::modify(&crate::openapi::SharedErrors, &mut doc);
    let mut doc = serde_json::to_value(&doc).unwrap_or_else(|e| {
        tracing::error!(error = %e, "the OpenAPI document could not be serialised");
        serde_json::Value::Null
    });
    crate::openapi::add_created_links(&mut doc);
    let doc = Arc::new(doc);
    api.route(
        "/api/openapi.json",
        get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    )
    .route("/metrics", get(crate::metrics::render))
    .route("/oauth/start", get(routes::oauth::start))
    .route("/oauth/callback", get(routes::oauth::callback))
    .fallback(routes::not_found)
    .method_not_allowed_fallback(routes::method_not_allowed)
    // Outermost last: sizes are checked first, then the token (on every /api/v1 path, routed
    // or not), then the time limit; a full disk seen in any answer raises the alarm; metrics
    // count every answer, the refusals included.
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        routes::health::watch_storage,
    ))
    .layer(axum::middleware::from_fn_with_state(
        state.core.settings.http.request_timeout,
        crate::limits::timeout,
    ))
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        crate::auth::require_admin,
    ))
    .layer(axum::middleware::from_fn(crate::limits::sizes))
    .layer(axum::middleware::from_fn(crate::metrics::track))
    .layer(tower_http::trace::TraceLayer::new_for_http().make_span_with(request_span))
    .with_state(state)
}

/// The span of a request: tower-http's default (method, URI, version, at DEBUG), but without
/// the query of `/oauth/...`: the callback's carries the authorization `code` and `state`.
fn request_span<B>(req: &axum::http::Request<B>) -> tracing::Span {
    let uri = req.uri();
    let shown = match uri.query() {
        Some(_) if uri.path().starts_with("/oauth/") => format!("{}?(redacted)", uri.path()),
        _ => uri.to_string(),
    };
    tracing::debug_span!(
        "request",
        method = %req.method(),
        uri = %shown,
        version = ?req.version()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// What the spans of a request to `uri` write at DEBUG.
    fn logged(uri: &str) -> String {
        let out = Arc::new(Mutex::new(Vec::new()));
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || Writer(writer.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let req = axum::http::Request::get(uri).body(()).unwrap();
            let _entered = request_span(&req).entered();
            tracing::debug!("started processing request");
        });
        String::from_utf8(out.lock().unwrap().clone()).unwrap()
    }

    struct Writer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_oauth_callbacks_code_and_state_stay_out_of_the_logs() {
        let line = logged("/oauth/callback?code=4%2F0AQSecretCode&state=st4te-s3cret");
        assert!(line.contains("/oauth/callback?(redacted)"), "{line}");
        assert!(
            !line.contains("SecretCode") && !line.contains("s3cret"),
            "{line}"
        );
        // Other requests keep their query, for debugging.
        let line = logged("/api/v1/tickets?status=open");
        assert!(line.contains("/api/v1/tickets?status=open"), "{line}");
    }
}
