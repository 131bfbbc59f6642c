//! The application: binds its listener (port 0 in tests), serves until the shutdown future
//! completes, then drains in-flight requests.

use crate::routes;
use anyhow::Context;
use axum::Router;
use axum::routing::get;
use mailgate_core::Core;
use mailgate_core::config::Settings;
use std::net::SocketAddr;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
}

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    core: Arc<Core>,
    addr: SocketAddr,
}

impl Application {
    pub async fn build(mut settings: Settings) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("cannot listen on {} (server.listen)", settings.listen))?;
        let addr = listener.local_addr().context("reading the bound address")?;
        // A base URL derived from `listen` follows the port actually bound (port 0 in tests).
        if settings.base_url == format!("http://{}", settings.listen) {
            settings.base_url = format!("http://{addr}");
        }
        let core = Arc::new(Core::open(settings).await?);
        let router = router(AppState { core: core.clone() });
        Ok(Self {
            listener,
            router,
            core,
            addr,
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
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("the HTTP server failed")?;
        tracing::info!("mailgate stopped");
        Ok(())
    }
}

pub fn router(state: AppState) -> Router {
    crate::metrics::handle();
    let (api, mut doc) = OpenApiRouter::with_openapi(crate::openapi::ApiDoc::openapi())
        .nest(
            "/api/v1",
            routes::api_router().route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                crate::auth::require_admin,
            )),
        )
        .routes(utoipa_axum::routes!(routes::health::healthz))
        .split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let doc = Arc::new(doc);
    api.route(
        "/api/openapi.json",
        get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    )
    .route("/metrics", get(crate::metrics::render))
    .fallback(routes::not_found)
    .method_not_allowed_fallback(routes::method_not_allowed)
    .layer(axum::middleware::from_fn(crate::metrics::track))
    .layer(tower_http::trace::TraceLayer::new_for_http())
    .with_state(state)
}
