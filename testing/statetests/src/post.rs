//! What a case's run is compared by: its status, output, logs, EVM gas
//! and every account's balance, nonce, code and storage, whichever side
//! ran it.

use std::collections::BTreeMap;

use revm::primitives::{Address, B256, Bytes, U256};

/// An account's storage: nonzero slots only.
pub type Storage = BTreeMap<U256, U256>;

/// An account as the EVM sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Its balance, in wei.
    pub balance: U256,
    /// Its nonce.
    pub nonce: u64,
    /// Its code (empty for an account without).
    pub code: Bytes,
    /// Its nonzero slots.
    pub storage: Storage,
}

impl Account {
    /// EIP-161's empty account, which Ethereum's state leaves out as
    /// Ward's does.
    pub fn is_empty(&self) -> bool {
        self.balance.is_zero() && self.nonce == 0 && self.code.is_empty() && self.storage.is_empty()
    }
}

/// How a transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not run: refused before it started (a nonce out of turn, too
    /// little balance, an intrinsic cost above its gas, a type refused).
    Refused,
    /// Ran to its end.
    Ok,
    /// Reverted (the EVM's `REVERT`).
    Reverted,
    /// Halted: out of gas, an invalid opcode, a stack error.
    Halted,
}

/// A log: the emitting contract, its topics and its data.
pub type Log = (Address, Vec<B256>, Bytes);

/// What one transaction did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub status: Status,
    /// A call's return (or revert) data; a creation's new address.
    pub output: Bytes,
    /// Its logs (none unless it succeeded).
    pub logs: Vec<Log>,
    /// The EVM gas it used, as its receipt says.
    pub gas: u64,
    /// Every account that is not empty, after it.
    pub accounts: BTreeMap<Address, Account>,
}

impl Outcome {
    /// A transaction refused before it ran, leaving `accounts` as they
    /// were.
    pub fn refused(accounts: BTreeMap<Address, Account>) -> Outcome {
        Outcome {
            status: Status::Refused,
            output: Bytes::new(),
            logs: Vec::new(),
            gas: 0,
            accounts,
        }
    }

    /// Where `got` differs from this outcome, one line each (none: the
    /// same).
    pub fn differences(&self, got: &Outcome) -> Vec<String> {
        let mut out = Vec::new();
        if self.status != got.status {
            out.push(format!("status: {:?}, not {:?}", got.status, self.status));
        }
        if self.output != got.output {
            out.push(format!("output: {}, not {}", got.output, self.output));
        }
        if self.logs != got.logs {
            out.push(format!(
                "logs: {} of them, not {}{}",
                got.logs.len(),
                self.logs.len(),
                if got.logs.len() == self.logs.len() {
                    " (their contents differ)"
                } else {
                    ""
                }
            ));
        }
        if self.gas != got.gas {
            out.push(format!("gas used: {}, not {}", got.gas, self.gas));
        }
        let none = Account::default();
        let addresses: std::collections::BTreeSet<&Address> =
            self.accounts.keys().chain(got.accounts.keys()).collect();
        for address in addresses {
            let want = self.accounts.get(address).unwrap_or(&none);
            let have = got.accounts.get(address).unwrap_or(&none);
            if want.balance != have.balance {
                out.push(format!(
                    "{address} balance: {}, not {}",
                    have.balance, want.balance
                ));
            }
            if want.nonce != have.nonce {
                out.push(format!(
                    "{address} nonce: {}, not {}",
                    have.nonce, want.nonce
                ));
            }
            if want.code != have.code {
                out.push(format!(
                    "{address} code: {} bytes, not {}",
                    have.code.len(),
                    want.code.len()
                ));
            }
            let slots: std::collections::BTreeSet<&U256> =
                want.storage.keys().chain(have.storage.keys()).collect();
            for slot in slots {
                let (w, h) = (want.storage.get(slot), have.storage.get(slot));
                if w != h {
                    out.push(format!(
                        "{address} slot {slot:#x}: {}, not {}",
                        h.map_or("0".into(), |v| format!("{v:#x}")),
                        w.map_or("0".into(), |v| format!("{v:#x}"))
                    ));
                }
            }
        }
        out
    }
}
