//! geth's `prestateTracer` (`docs/ethereum.md`): the accounts a
//! transaction touched as they were before it ran, or, with `diffMode`,
//! what it changed: each changed account's fields before (`pre`) and
//! after (`post`).
//!
//! The touched accounts are the sender and the recipient, every account
//! a frame ran on, called from or ran the code of, and every account
//! whose balance, nonce, code or storage the transaction changed (the fee
//! collector's balance among them). A frame's storage slots are the
//! 32-byte keys it read or wrote (an EVM contract's slots; a Wasm
//! contract's keys of other lengths have no slot to show). An EVM
//! `BALANCE` or `EXTCODESIZE` of an account no frame ran on leaves no
//! trace here, so such an account is not shown unless it changed.

use std::collections::{BTreeMap, BTreeSet};

use alloy_primitives::{B256, Bytes, U256};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ward_executor::{Access, CallKind, Trace, TraceFrame};
use ward_primitives::Address;
use ward_state::{ChangeSet, Journal, StateError, StateRead};

use super::{accounts::storage_word as word, params::eth20};

/// `tracerConfig` of `prestateTracer`, as geth takes it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Config {
    #[serde(default)]
    diff_mode: bool,
    #[serde(default)]
    disable_code: bool,
    #[serde(default)]
    disable_storage: bool,
}

/// One account as the tracer shows it: in `pre`, its balance always and
/// its nonce, code and slots when not zero or empty; in `post`, only
/// what changed.
#[derive(Debug, Default, Serialize)]
struct Account {
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<U256>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<Bytes>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    storage: BTreeMap<B256, B256>,
}

/// One side of a transaction: the state it started on or left, `base`
/// with a change set over it.
struct Side<'a> {
    journal: Journal<&'a dyn StateRead>,
}

impl<'a> Side<'a> {
    fn new(base: &'a dyn StateRead, changes: &ChangeSet) -> Side<'a> {
        let mut journal = Journal::new(base);
        journal.apply(changes.clone());
        Side { journal }
    }

    fn balance(&self, address: &Address) -> Result<U256, StateError> {
        Ok(U256::from(self.journal.balance(address)?))
    }

    fn nonce(&self, address: &Address) -> Result<u64, StateError> {
        self.journal.nonce(address)
    }

    fn code(&self, address: &Address) -> Result<Vec<u8>, StateError> {
        let Some(info) = self.journal.contract(address)? else {
            return Ok(Vec::new());
        };
        Ok(self.journal.code(&info.code_hash)?.unwrap_or_default())
    }

    fn slot(&self, address: &Address, key: &B256) -> Result<B256, StateError> {
        let value = self.journal.read(address, key.as_slice())?;
        Ok(word(value.as_deref()))
    }
}

/// What the tracer shows of a transaction whose `trace` ran with the
/// state `base` plus `before` under it and left `base` plus `after`;
/// `sender` and `recipient` are what it asked for.
pub(super) fn shown(
    trace: &Trace,
    base: &dyn StateRead,
    (before, after): (&ChangeSet, &ChangeSet),
    (sender, recipient): (Address, Option<Address>),
    config: &Config,
) -> Result<Value, StateError> {
    let touched = touched(trace, (before, after), (sender, recipient));
    let created = created(trace);
    let pre_side = Side::new(base, before);
    let post_side = Side::new(base, after);
    let mut pre = BTreeMap::new();
    let mut post = BTreeMap::new();
    for (address, slots) in &touched {
        let balance = pre_side.balance(address)?;
        let nonce = pre_side.nonce(address)?;
        let code = pre_side.code(address)?;
        let mut account = Account {
            balance: Some(balance),
            nonce: (nonce != 0).then_some(nonce),
            code: (!config.disable_code && !code.is_empty()).then(|| Bytes::from(code.clone())),
            storage: BTreeMap::new(),
        };
        if !config.disable_storage {
            for key in slots {
                account.storage.insert(*key, pre_side.slot(address, key)?);
            }
        }
        if config.diff_mode {
            let mut changed = Account::default();
            let new_balance = post_side.balance(address)?;
            if new_balance != balance {
                changed.balance = Some(new_balance);
            }
            let new_nonce = post_side.nonce(address)?;
            if new_nonce != nonce {
                changed.nonce = Some(new_nonce);
            }
            let mut modified = changed.balance.is_some() || changed.nonce.is_some();
            if !config.disable_code {
                let new_code = post_side.code(address)?;
                if new_code != code {
                    modified = true;
                    changed.code = Some(Bytes::from(new_code));
                }
            }
            let mut kept = BTreeMap::new();
            for (key, old) in account.storage {
                let new = post_side.slot(address, &key)?;
                if new == old {
                    continue;
                }
                modified = true;
                if !old.is_zero() {
                    kept.insert(key, old);
                }
                if !new.is_zero() {
                    changed.storage.insert(key, new);
                }
            }
            account.storage = kept;
            if !modified {
                continue;
            }
            post.insert(eth20(address), changed);
        }
        // A contract this transaction created, as geth drops it: when
        // it shows nothing before (in `diffMode`, once its unchanged and
        // zero slots are gone; otherwise the zero slots its constructor
        // wrote still show).
        let empty = balance.is_zero()
            && account.nonce.is_none()
            && account.code.is_none()
            && account.storage.is_empty();
        if created.contains(address) && empty {
            continue;
        }
        pre.insert(eth20(address), account);
    }
    let value = if config.diff_mode {
        serde_json::json!({ "pre": pre, "post": post })
    } else {
        serde_json::to_value(pre).unwrap_or(Value::Null)
    };
    Ok(value)
}

/// The accounts the transaction touched, each with the 32-byte keys of
/// its storage it read, wrote or changed.
fn touched(
    trace: &Trace,
    (before, after): (&ChangeSet, &ChangeSet),
    (sender, recipient): (Address, Option<Address>),
) -> BTreeMap<Address, BTreeSet<B256>> {
    let mut touched: BTreeMap<Address, BTreeSet<B256>> = BTreeMap::new();
    touched.entry(sender).or_default();
    if let Some(recipient) = recipient {
        touched.entry(recipient).or_default();
    }
    if let Some(root) = &trace.root {
        frames(root, &mut touched);
    }
    for (address, balance) in &after.balances {
        if before.balances.get(address) != Some(balance) {
            touched.entry(*address).or_default();
        }
    }
    for (address, nonce) in &after.nonces {
        if before.nonces.get(address) != Some(nonce) {
            touched.entry(*address).or_default();
        }
    }
    for address in after.contracts.keys() {
        if !before.contracts.contains_key(address) {
            touched.entry(*address).or_default();
        }
    }
    for ((address, key), value) in &after.storage {
        if before.storage.get(&(*address, key.clone())) != Some(value) {
            let slots = touched.entry(*address).or_default();
            if let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) {
                slots.insert(B256::from(key));
            }
        }
    }
    touched
}

fn frames(frame: &TraceFrame, touched: &mut BTreeMap<Address, BTreeSet<B256>>) {
    touched.entry(frame.caller).or_default();
    touched.entry(frame.code_address).or_default();
    let slots = touched.entry(frame.address).or_default();
    for access in &frame.accesses {
        let key = match access {
            Access::Read { key, .. } | Access::Write { key, .. } => key,
            Access::Event { .. } => continue,
        };
        if let Ok(key) = <[u8; 32]>::try_from(key.as_slice()) {
            slots.insert(B256::from(key));
        }
    }
    for callee in &frame.calls {
        frames(callee, touched);
    }
}

/// The contracts the transaction's frames created.
fn created(trace: &Trace) -> BTreeSet<Address> {
    fn walk(frame: &TraceFrame, out: &mut BTreeSet<Address>) {
        if matches!(frame.call, CallKind::Deploy | CallKind::Create) {
            out.insert(frame.address);
        }
        for callee in &frame.calls {
            walk(callee, out);
        }
    }
    let mut out = BTreeSet::new();
    if let Some(root) = &trace.root {
        walk(root, &mut out);
    }
    out
}
