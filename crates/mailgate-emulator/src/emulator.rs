//! Lifecycle: bind, serve, shut down; or run on a thread of its own for the process lifetime.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::EmulatorConfig;
use crate::control::Control;
use crate::fixtures::ID_TOKEN_SIGNING_KEY_PEM;
use crate::keys;
use crate::routes;
use crate::state::{Shared, SigningKey};

/// Entry points; see [`Emulator::start`] and [`Emulator::start_in_background`].
#[derive(Debug)]
pub struct Emulator;

impl Emulator {
    /// Binds `config.listen` and serves on the current runtime until
    /// [`RunningEmulator::shutdown`] (or until the runtime goes away).
    pub async fn start(config: EmulatorConfig) -> anyhow::Result<RunningEmulator> {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding the emulator to {}", config.listen))?;
        let local_addr = listener
            .local_addr()
            .context("reading the emulator's bound address")?;
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{local_addr}"))
            .trim_end_matches('/')
            .to_owned();
        let key_pair = keys::key_pair_from_pem(ID_TOKEN_SIGNING_KEY_PEM)
            .context("loading the emulator's id_token signing key")?;
        let kid = keys::key_id(&keys::public_der(&key_pair));
        let shared = Arc::new(Shared::new(
            config,
            base_url.clone(),
            SigningKey { key_pair, kid },
        ));
        let app = routes::router(Arc::clone(&shared));

        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    // A dropped sender means the handle is gone: stop too.
                    let _ = stop_rx.await;
                })
                .await
        });
        tracing::info!(%base_url, "google emulator listening");
        Ok(RunningEmulator {
            base_url,
            local_addr,
            control: Control::new(shared),
            stop: Some(stop_tx),
            task,
        })
    }

    /// Starts the emulator on a thread with its own runtime and returns once it listens. It stays
    /// up for the rest of the process: tests with one runtime each can share it, and it survives
    /// the end of the runtime of the test that started it.
    pub fn start_in_background(config: EmulatorConfig) -> anyhow::Result<BackgroundEmulator> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("google-emulator".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(
                            anyhow::Error::new(e).context("building the emulator runtime")
                        ));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match Emulator::start(config).await {
                        Ok(running) => {
                            let handle = BackgroundEmulator {
                                base_url: running.base_url.clone(),
                                local_addr: running.local_addr,
                                control: running.control.clone(),
                            };
                            let _ = ready_tx.send(Ok(handle));
                            // Serve until the process exits; the stop sender lives here.
                            let _keep = running.stop;
                            let _ = running.task.await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .context("spawning the emulator thread")?;
        ready_rx
            .recv()
            .context("the emulator thread ended before it was ready")?
    }
}

/// An emulator serving on the runtime that started it.
#[derive(Debug)]
pub struct RunningEmulator {
    base_url: String,
    local_addr: SocketAddr,
    control: Control,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningEmulator {
    /// `http://127.0.0.1:PORT` (or the configured public URL), no trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn control(&self) -> &Control {
        &self.control
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits for the server.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task)
            .await
            .context("the emulator task panicked")?
            .context("the emulator server failed")
    }
}

/// An emulator on its own thread and runtime, up until the process exits.
#[derive(Debug, Clone)]
pub struct BackgroundEmulator {
    base_url: String,
    local_addr: SocketAddr,
    control: Control,
}

impl BackgroundEmulator {
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn control(&self) -> &Control {
        &self.control
    }
}
