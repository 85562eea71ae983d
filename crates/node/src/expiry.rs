//! The mempool's clock: what waited too long expires once a second,
//! whether or not anything arrives (an idle node's gapped transactions
//! included), on a single node and on a replica, which also takes them
//! out of the cluster's shared mempool.

use std::{sync::Arc, time::Duration};

use tokio::sync::watch;

use crate::state::Shared;

/// How often expiry runs.
const EVERY: Duration = Duration::from_secs(1);

/// Expires the mempool's overdue transactions every [`EVERY`] until
/// `stop` turns true; their waiters hear `expired`.
pub(crate) async fn run(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let Some(evicted) = shared.pool().expire(ward_vm::clock::now()) else {
            continue;
        };
        #[cfg(feature = "etcd")]
        if let Some(replica) = shared.replica() {
            let mut log = replica.log.clone();
            if let Err(error) = log.pool_remove(&evicted).await {
                tracing::warn!(%error, count = evicted.len(), "expired transactions stay in the shared mempool");
            }
        }
        #[cfg(not(feature = "etcd"))]
        drop(evicted);
    }
}
