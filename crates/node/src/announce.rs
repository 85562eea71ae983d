//! A committed block as its subscribers get it: the block, and what its
//! notifications show, rendered as JSON once for every WebSocket
//! connection (`ws`) when the first one needs it, in Ward's shapes and
//! in Ethereum's (`eth_subscribe`).

use std::sync::{Arc, OnceLock};

use ward_executor::Block;
use ward_primitives::Address;

use crate::json;

/// A committed block as subscribers get it: the block, and its
/// notifications' results rendered once, when a connection first needs
/// them, for every connection.
pub(crate) struct Announced {
    pub(crate) block: Arc<Block>,
    header: OnceLock<Arc<str>>,
    events: OnceLock<Vec<RenderedEvent>>,
    eth_header: OnceLock<Arc<str>>,
    eth_logs: OnceLock<Vec<RenderedLog>>,
}

/// A log as `eth_subscribe`'s `logs` shows it, with the log to match
/// subscriptions' filters.
pub(crate) struct RenderedLog {
    pub(crate) log: alloy_primitives::Log,
    pub(crate) result: Arc<str>,
}

/// An event's notification result, with its contract and topic to match
/// subscriptions' filters.
pub(crate) struct RenderedEvent {
    pub(crate) contract: Address,
    pub(crate) topic: Vec<u8>,
    pub(crate) result: Arc<str>,
}

impl Announced {
    pub(crate) fn new(block: Arc<Block>) -> Self {
        Announced {
            block,
            header: OnceLock::new(),
            events: OnceLock::new(),
            eth_header: OnceLock::new(),
            eth_logs: OnceLock::new(),
        }
    }

    pub(crate) fn header(&self) -> &Arc<str> {
        self.header
            .get_or_init(|| to_text(&json::block(&self.block.record)))
    }

    /// Its header as `eth_subscribe`'s `newHeads` shows it, rendered by
    /// `render` (`eth::head_notification`) the first time.
    pub(crate) fn eth_header(&self, render: impl FnOnce(&Block) -> Arc<str>) -> &Arc<str> {
        self.eth_header.get_or_init(|| render(&self.block))
    }

    /// Its logs as `eth_subscribe`'s `logs` shows them, rendered by
    /// `render` (`eth::log_notifications`) the first time.
    pub(crate) fn eth_logs(
        &self,
        render: impl FnOnce(&Block) -> Vec<RenderedLog>,
    ) -> &[RenderedLog] {
        self.eth_logs.get_or_init(|| render(&self.block))
    }

    pub(crate) fn events(&self) -> &[RenderedEvent] {
        self.events.get_or_init(|| {
            let mut out = Vec::new();
            for receipt in &self.block.receipts {
                for (index, event) in receipt.events.iter().enumerate() {
                    let result = ward_rpc::results::Event {
                        height: Some(receipt.height),
                        tx: Some(receipt.tx),
                        index: u32::try_from(index).ok(),
                        ..json::event(event)
                    };
                    out.push(RenderedEvent {
                        contract: event.contract,
                        topic: event.topic.clone(),
                        result: to_text(&result),
                    });
                }
            }
            out
        })
    }
}

/// A result as JSON text (plain data: it always serializes).
pub(crate) fn to_text(value: &impl serde::Serialize) -> Arc<str> {
    serde_json::to_string(value).unwrap_or_default().into()
}
