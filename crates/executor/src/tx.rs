//! A transaction as the executor runs it, and its byte encoding (what
//! `ward`'s data directories store for unsigned transactions; the node's
//! signed ones are `ward_chain::tx`'s), its id and a contract's address.

use super::*;

/// A transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tx {
    /// Deploys `code`, running its `deploy` export (if any) with `input`.
    Deploy {
        /// Who deploys.
        sender: Address,
        /// The module's bytes.
        code: Vec<u8>,
        /// Input to `deploy`.
        input: Vec<u8>,
        /// Gas for validation and `deploy`.
        gas_limit: u64,
        /// Distinguishes deployments of the same code by the same sender.
        salt: Vec<u8>,
        /// What the code runs as (`docs/wasi.md` for [`CodeKind::Wasi`]).
        kind: CodeKind,
        /// Native asset moved from the sender to the new contract.
        value: u128,
        /// Who may upgrade it (`None`: nobody; it is immutable).
        admin: Option<Address>,
    },
    /// Calls `main` of the contract at `to`.
    Call {
        /// Who calls.
        sender: Address,
        /// The contract.
        to: Address,
        /// Input to `main`.
        input: Vec<u8>,
        /// Gas for the call.
        gas_limit: u64,
        /// Native asset moved from the sender to `to`.
        value: u128,
    },
    /// What only a contract's admin may do to it: replace its code
    /// (running the new code's `migrate`), or hand the admin on.
    Admin {
        /// Who sends it: the contract's admin, or the transaction fails.
        sender: Address,
        /// The contract.
        contract: Address,
        /// What to do.
        action: AdminAction,
        /// Gas for it (an upgrade pays for its code's bytes as a deploy
        /// does, then `migrate`).
        gas_limit: u64,
    },
}

impl Tx {
    /// Its gas limit.
    pub fn gas_limit(&self) -> u64 {
        match self {
            Tx::Deploy { gas_limit, .. }
            | Tx::Call { gas_limit, .. }
            | Tx::Admin { gas_limit, .. } => *gas_limit,
        }
    }

    /// Its gas limit, to change.
    pub fn gas_limit_mut(&mut self) -> &mut u64 {
        match self {
            Tx::Deploy { gas_limit, .. }
            | Tx::Call { gas_limit, .. }
            | Tx::Admin { gas_limit, .. } => gas_limit,
        }
    }

    /// The input its first frame runs with: `deploy`'s, `main`'s, or an
    /// upgrade's `migrate`'s (empty for an admin change).
    pub fn input(&self) -> &[u8] {
        match self {
            Tx::Deploy { input, .. } | Tx::Call { input, .. } => input,
            Tx::Admin {
                action: AdminAction::Upgrade { input, .. },
                ..
            } => input,
            Tx::Admin { .. } => &[],
        }
    }

    /// The native asset it moves.
    pub fn value(&self) -> u128 {
        match self {
            Tx::Deploy { value, .. } | Tx::Call { value, .. } => *value,
            Tx::Admin { .. } => 0,
        }
    }

    /// Who sends it.
    pub fn sender(&self) -> Address {
        match self {
            Tx::Deploy { sender, .. } | Tx::Call { sender, .. } | Tx::Admin { sender, .. } => {
                *sender
            }
        }
    }

    /// The length of [`Tx::to_bytes`], without encoding (a deploy's code
    /// may be megabytes): the tag, fixed-width fields, and a `u32` length
    /// before each byte string.
    pub fn encoded_len(&self) -> u64 {
        let bytes = |b: &[u8]| 4 + b.len() as u64;
        let value = if self.value() == 0 { 0 } else { 16 };
        match self {
            Tx::Deploy {
                code,
                input,
                salt,
                kind,
                admin,
                ..
            } => {
                let (explicit, value, admin) = match admin {
                    // Tag 5: the kind, the value and the admin, always.
                    Some(_) => (kind.any_len(), 16, 32),
                    None => match kind {
                        CodeKind::Ward if value == 0 => (0, 0, 0),
                        kind => (kind.explicit_len(), value, 0),
                    },
                };
                1 + 32 + bytes(code) + bytes(input) + 8 + bytes(salt) + explicit + value + admin
            }
            Tx::Call { input, .. } => 1 + 32 + 32 + bytes(input) + 8 + value,
            Tx::Admin { action, .. } => {
                let action = match action {
                    AdminAction::Upgrade { code, input } => 1 + bytes(code) + bytes(input),
                    AdminAction::SetAdmin(admin) => 2 + if admin.is_some() { 32 } else { 0 },
                };
                1 + 32 + 32 + 8 + action
            }
        }
    }

    /// The transaction's hash: BLAKE3 of its canonical encoding.
    pub fn hash(&self) -> Hash32 {
        Hash32(*blake3::hash(&self.to_bytes()).as_bytes())
    }

    /// The canonical encoding (stored with the block): a tag byte, then
    /// the fields in order, in the state's record encoding
    /// (`docs/storage-format.md`). The tags: 0 deploy, 1 call, 2 deploy of
    /// another [`CodeKind`] than Ward's (whose tag follows the salt), and,
    /// with a nonzero value (after the other fields), 3 call and 4 deploy
    /// (its kind always explicit); 5 a deploy with an admin (its kind and
    /// value always explicit, the admin last); 6 an admin transaction
    /// (sender, contract, gas limit, then the action: 0 and the code and
    /// input of an upgrade, or 1 and the new admin). A transaction without
    /// value or admin encodes as it did before they existed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Tx::Deploy {
                sender,
                code,
                input,
                gas_limit,
                salt,
                kind,
                value,
                admin,
            } => {
                let explicit = *kind != CodeKind::Ward || *value != 0 || admin.is_some();
                out.push(match (admin.is_some(), explicit, *value != 0) {
                    (true, _, _) => 5u8,
                    (false, _, true) => 4,
                    (false, true, false) => 2,
                    (false, false, false) => 0,
                });
                sender.encode(&mut out);
                code.encode(&mut out);
                input.encode(&mut out);
                gas_limit.encode(&mut out);
                salt.encode(&mut out);
                if admin.is_some() {
                    kind.encode_any(&mut out);
                } else if explicit {
                    kind.encode_explicit(&mut out);
                }
                if let Some(admin) = admin {
                    value.encode(&mut out);
                    admin.encode(&mut out);
                } else if *value != 0 {
                    value.encode(&mut out);
                }
            }
            Tx::Call {
                sender,
                to,
                input,
                gas_limit,
                value,
            } => {
                out.push(if *value == 0 { 1u8 } else { 3u8 });
                sender.encode(&mut out);
                to.encode(&mut out);
                input.encode(&mut out);
                gas_limit.encode(&mut out);
                if *value != 0 {
                    value.encode(&mut out);
                }
            }
            Tx::Admin {
                sender,
                contract,
                action,
                gas_limit,
            } => {
                out.push(6);
                sender.encode(&mut out);
                contract.encode(&mut out);
                gas_limit.encode(&mut out);
                action.encode_to(&mut out);
            }
        }
        out
    }
}

impl Tx {
    /// Reads a transaction back from its canonical encoding
    /// ([`Tx::to_bytes`]); the bytes must be exactly one transaction.
    ///
    /// # Errors
    ///
    /// An unknown tag, a field cut short, or bytes left over.
    pub fn from_bytes(bytes: &[u8]) -> Result<Tx, CodecError> {
        let mut input = bytes;
        let input = &mut input;
        let tx = match u8::decode(input)? {
            tag @ (0 | 2 | 4 | 5) => Tx::Deploy {
                sender: Address::decode(input)?,
                code: Vec::decode(input)?,
                input: Vec::decode(input)?,
                gas_limit: u64::decode(input)?,
                salt: Vec::decode(input)?,
                kind: match tag {
                    0 => CodeKind::Ward,
                    5 => CodeKind::decode_any(input)?,
                    _ => CodeKind::decode_explicit(input)?,
                },
                value: match tag {
                    4 => nonzero(input)?,
                    5 => u128::decode(input)?,
                    _ => 0,
                },
                admin: if tag == 5 {
                    Some(Address::decode(input)?)
                } else {
                    None
                },
            },
            6 => Tx::Admin {
                sender: Address::decode(input)?,
                contract: Address::decode(input)?,
                gas_limit: u64::decode(input)?,
                action: AdminAction::decode_from(input)?,
            },
            tag @ (1 | 3) => Tx::Call {
                sender: Address::decode(input)?,
                to: Address::decode(input)?,
                input: Vec::decode(input)?,
                gas_limit: u64::decode(input)?,
                value: if tag == 3 { nonzero(input)? } else { 0 },
            },
            tag => return Err(CodecError(format!("unknown transaction tag {tag}"))),
        };
        if !input.is_empty() {
            return Err(CodecError(format!("{} trailing bytes", input.len())));
        }
        Ok(tx)
    }
}

/// A value that has its own tag: zero would have another encoding.
fn nonzero(input: &mut &[u8]) -> Result<u128, CodecError> {
    match u128::decode(input)? {
        0 => Err(CodecError("a zero value under a value tag".into())),
        value => Ok(value),
    }
}

/// The identifier of a transaction as executed: BLAKE3 of its hash, the
/// block height and its position in the block. Two identical transactions
/// (same sender, target, input and gas) are distinct executions; receipts
/// are stored and looked up (`ward receipt`) by this identifier.
pub fn tx_id(tx: &Tx, height: u64, index: u32) -> Hash32 {
    let mut out = b"ward-tx-id".to_vec();
    tx.hash().encode(&mut out);
    height.encode(&mut out);
    index.encode(&mut out);
    Hash32(*blake3::hash(&out).as_bytes())
}

/// The address a deploy creates: BLAKE3 of a domain tag, the sender, the
/// code hash and the salt (each length-prefixed where variable).
pub fn contract_address(sender: &Address, code_hash: &Hash32, salt: &[u8]) -> Address {
    let mut out = b"ward-contract-address".to_vec();
    sender.encode(&mut out);
    code_hash.encode(&mut out);
    salt.encode(&mut out);
    Address(*blake3::hash(&out).as_bytes())
}
