//! Ethereum's polled filters as a node keeps them (`eth_newFilter`,
//! `eth_newBlockFilter`): what each shows and the next block it has not
//! shown. `eth::filters` answers the methods.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use alloy_rpc_types_eth::Filter;

/// One installed filter.
pub(crate) struct Installed {
    /// Logs matching a filter, or new blocks' hashes (`None`).
    pub(crate) logs: Option<Filter>,
    /// The first block not yet shown.
    pub(crate) next: u64,
    /// When it was installed or last polled.
    pub(crate) polled: Instant,
}

/// A node's installed filters, by id.
#[derive(Default)]
pub(crate) struct Filters {
    pub(crate) installed: BTreeMap<u64, Installed>,
    last_id: u64,
}

impl Filters {
    /// Installs a filter whose first block is `next`, after forgetting
    /// those not polled for `idle`; its id, or `None` when `max` are kept.
    pub(crate) fn install(
        &mut self,
        logs: Option<Filter>,
        next: u64,
        max: usize,
        idle: Duration,
    ) -> Option<u64> {
        let now = ward_vm::clock::now();
        self.installed
            .retain(|_, f| now.duration_since(f.polled) < idle);
        if self.installed.len() >= max {
            return None;
        }
        self.last_id += 1;
        self.installed.insert(
            self.last_id,
            Installed {
                logs,
                next,
                polled: now,
            },
        );
        Some(self.last_id)
    }
}
