//! `Listener`: the accept loop over a bound `TcpListener`, with a connection cap and a
//! shutdown future.
//!
//! Each accepted connection gets its own task for the handshake, so a slow or silent peer
//! never holds up the next `accept`. A permit of the inbound cap is taken before the
//! handshake and held until the peer ends; connections over the cap are closed at once.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};

use crate::config::PeerConfig;
use crate::driver::{self, Event, PeerHandle, PeerId};
use crate::proto::{NonceSet, Role};

/// Source of process-unique peer ids.
static NEXT_PEER_ID: AtomicU64 = AtomicU64::new(1);

/// Returns a new process-unique peer id.
pub(crate) fn next_peer_id() -> PeerId {
    NEXT_PEER_ID.fetch_add(1, Ordering::Relaxed)
}

/// Accepts inbound peers.
#[derive(Debug)]
pub struct Listener {
    listener: TcpListener,
    config: Arc<PeerConfig>,
    nonces: NonceSet,
    max_inbound: usize,
}

impl Listener {
    /// Returns a listener over a bound socket (tests bind `127.0.0.1:0`), accepting at most
    /// `max_inbound` peers at once.
    #[must_use]
    pub fn new(listener: TcpListener, config: PeerConfig, max_inbound: usize) -> Self {
        Self {
            listener,
            config: Arc::new(config),
            nonces: NonceSet::new(),
            max_inbound,
        }
    }

    /// Shares `nonces` with this process's outbound connections, so connecting to ourselves
    /// is detected.
    #[must_use]
    pub fn with_nonces(mut self, nonces: NonceSet) -> Self {
        self.nonces = nonces;
        self
    }

    /// Returns the address the listener is bound to.
    ///
    /// # Errors
    /// When the socket cannot tell.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Accepts connections until `shutdown` resolves, then disconnects every peer it
    /// accepted and returns. Events go to `events`.
    pub async fn run(self, events: mpsc::Sender<Event>, shutdown: impl Future<Output = ()>) {
        let permits = Arc::new(Semaphore::new(self.max_inbound));
        let peers: Arc<Mutex<HashMap<PeerId, PeerHandle>>> = Arc::default();
        tokio::pin!(shutdown);
        loop {
            let (stream, addr) = tokio::select! {
                () = &mut shutdown => break,
                accepted = self.listener.accept() => match accepted {
                    Ok(pair) => pair,
                    // Per-connection failures (the peer reset before accept, or we ran out
                    // of descriptors for a moment): keep accepting.
                    Err(e) => {
                        tracing::debug!("accept failed: {e}");
                        tokio::task::yield_now().await;
                        continue;
                    }
                },
            };
            let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                tracing::debug!(%addr, "inbound cap {} reached, closing", self.max_inbound);
                drop(stream);
                continue;
            };
            let _ = stream.set_nodelay(true);
            let config = Arc::clone(&self.config);
            let nonces = self.nonces.clone();
            let events = events.clone();
            let peers = Arc::clone(&peers);
            tokio::spawn(async move {
                let done = match driver::accept(stream, addr, &config, &nonces).await {
                    Ok(done) => done,
                    Err(error) => {
                        let _ = events
                            .send(Event::HandshakeFailed {
                                addr,
                                role: Role::Inbound,
                                error,
                            })
                            .await;
                        return;
                    }
                };
                let id = next_peer_id();
                let handle = driver::spawn(done, id, &config, events.clone());
                peers
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(id, handle.clone());
                if events.send(Event::Connected(handle.clone())).await.is_err() {
                    handle.disconnect();
                }
                handle.wait_for_disconnect().await;
                peers
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .remove(&id);
                drop(permit);
            });
        }
        let live: Vec<PeerHandle> = peers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for peer in &live {
            peer.end(crate::error::DisconnectReason::Shutdown);
        }
        for peer in live {
            peer.wait_for_disconnect().await;
        }
    }
}
