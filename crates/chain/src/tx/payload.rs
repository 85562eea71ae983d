//! What a transaction does, whoever sends it: the one payload type and
//! its one tag table, shared by signed, impersonated and unsigned
//! transactions (`docs/transactions.md`).

use ward_primitives::{
    Address, CodeKind,
    codec::{CodecError, Decode, Encode},
};

/// What a transaction does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    /// Deploys a contract.
    Deploy(Deploy),
    /// Calls `main` of the contract at `to`.
    Call {
        /// The contract.
        to: Address,
        /// Input to `main`.
        input: Vec<u8>,
    },
    /// What only a contract's admin may do to it.
    Admin {
        /// The contract.
        contract: Address,
        /// What to do.
        action: AdminAction,
    },
}

/// A deploy: runs `code`'s `deploy` export (if any) with `input`; the
/// address derives from the sender, the code's hash and `salt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deploy {
    /// The module's bytes.
    pub code: Vec<u8>,
    /// Input to `deploy`.
    pub input: Vec<u8>,
    /// Distinguishes deployments of the same code by the same sender.
    pub salt: Vec<u8>,
    /// What the code runs as: a Ward contract, a WASI command
    /// (`docs/wasi.md`), or a system runtime's code.
    pub kind: CodeKind,
    /// Who may upgrade it (`None`: nobody; it is immutable).
    pub admin: Option<Address>,
}

impl Deploy {
    /// The deploy of a Ward contract with no salt and no admin.
    pub fn new(code: Vec<u8>, input: Vec<u8>) -> Deploy {
        Deploy {
            code,
            input,
            salt: Vec::new(),
            kind: CodeKind::Ward,
            admin: None,
        }
    }

    /// With `salt`, which tells apart deploys of the same code by the
    /// same sender.
    #[must_use]
    pub fn with_salt(mut self, salt: Vec<u8>) -> Deploy {
        self.salt = salt;
        self
    }

    /// Running as `kind` (a WASI command, a system runtime's code).
    #[must_use]
    pub fn with_kind(mut self, kind: CodeKind) -> Deploy {
        self.kind = kind;
        self
    }

    /// With `admin`, who may upgrade it.
    #[must_use]
    pub fn with_admin(mut self, admin: Option<Address>) -> Deploy {
        self.admin = admin;
        self
    }

    /// The tag of its encoding: 0 a Ward contract's, 2 another kind's, 3
    /// with an admin.
    fn tag(&self) -> u8 {
        match (self.admin, self.kind != CodeKind::Ward) {
            (Some(_), _) => 3,
            (None, true) => 2,
            (None, false) => 0,
        }
    }

    fn encode_to(&self, out: &mut Vec<u8>) {
        let tag = self.tag();
        tag.encode(out);
        self.code.encode(out);
        self.input.encode(out);
        self.salt.encode(out);
        match tag {
            2 => self.kind.encode_explicit(out),
            3 => self.kind.encode_any(out),
            _ => {}
        }
        if let Some(admin) = self.admin {
            admin.encode(out);
        }
    }

    fn decode_after(tag: u8, input: &mut &[u8]) -> Result<Deploy, CodecError> {
        Ok(Deploy {
            code: Vec::decode(input)?,
            input: Vec::decode(input)?,
            salt: Vec::decode(input)?,
            kind: match tag {
                0 => CodeKind::Ward,
                2 => CodeKind::decode_explicit(input)?,
                _ => CodeKind::decode_any(input)?,
            },
            admin: if tag == 3 {
                Some(Address::decode(input)?)
            } else {
                None
            },
        })
    }

    fn encoded_len(&self) -> u64 {
        let kind = match self.tag() {
            3 => self.kind.any_len() + 32,
            2 => self.kind.explicit_len(),
            _ => 0,
        };
        1 + 4
            + self.code.len() as u64
            + 4
            + self.input.len() as u64
            + 4
            + self.salt.len() as u64
            + kind
    }
}

impl From<Deploy> for Payload {
    fn from(deploy: Deploy) -> Payload {
        Payload::Deploy(deploy)
    }
}

/// What a contract's admin may do (`docs/contracts.md`, "Upgrades").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AdminAction {
    /// Replace its code, keeping its address, storage and balance; the
    /// new code's `migrate` export, when it has one, runs with `input` in
    /// the same transaction, and a failing `migrate` undoes the upgrade.
    Upgrade {
        /// The new module.
        code: Vec<u8>,
        /// Input to `migrate`.
        input: Vec<u8>,
    },
    /// Hand the admin to another address, or drop it (`None`: the
    /// contract is immutable from then on).
    SetAdmin(Option<Address>),
}

impl AdminAction {
    /// Appends its encoding: a tag (0 upgrade, 1 set admin), then its
    /// fields.
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            AdminAction::Upgrade { code, input } => {
                0u8.encode(out);
                code.encode(out);
                input.encode(out);
            }
            AdminAction::SetAdmin(admin) => {
                1u8.encode(out);
                encode_admin(*admin, out);
            }
        }
    }

    /// Reads one, as [`AdminAction::encode_to`] writes it.
    ///
    /// # Errors
    ///
    /// Bytes that are not one.
    pub fn decode_from(input: &mut &[u8]) -> Result<Self, CodecError> {
        match u8::decode(input)? {
            0 => Ok(AdminAction::Upgrade {
                code: Vec::decode(input)?,
                input: Vec::decode(input)?,
            }),
            1 => Ok(AdminAction::SetAdmin(decode_admin(input)?)),
            tag => Err(CodecError(format!("unknown admin action {tag}"))),
        }
    }
}

/// An optional admin: 0, or 1 and the address.
pub fn encode_admin(admin: Option<Address>, out: &mut Vec<u8>) {
    match admin {
        None => 0u8.encode(out),
        Some(admin) => {
            1u8.encode(out);
            admin.encode(out);
        }
    }
}

/// An optional admin as [`encode_admin`] writes it.
///
/// # Errors
///
/// A tag other than 0 or 1, or a short address.
pub fn decode_admin(input: &mut &[u8]) -> Result<Option<Address>, CodecError> {
    match u8::decode(input)? {
        0 => Ok(None),
        1 => Ok(Some(Address::decode(input)?)),
        tag => Err(CodecError(format!("admin tag {tag}"))),
    }
}

impl Payload {
    /// Appends its encoding: a tag, then its fields. The tags: 0 a Ward
    /// deploy, 1 a call, 2 a deploy of another kind (the kind after the
    /// salt), 3 a deploy with an admin (its kind explicit, Ward's
    /// included, then the admin), 4 what a contract's admin does.
    pub fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            Payload::Deploy(deploy) => deploy.encode_to(out),
            Payload::Call { to, input } => {
                1u8.encode(out);
                to.encode(out);
                input.encode(out);
            }
            Payload::Admin { contract, action } => {
                4u8.encode(out);
                contract.encode(out);
                action.encode_to(out);
            }
        }
    }

    /// Reads one as [`Payload::encode_to`] writes it, leaving what
    /// follows.
    ///
    /// # Errors
    ///
    /// An unknown tag or kind, or a field cut short.
    pub fn decode_from(input: &mut &[u8]) -> Result<Payload, CodecError> {
        Ok(match u8::decode(input)? {
            tag @ (0 | 2 | 3) => Payload::Deploy(Deploy::decode_after(tag, input)?),
            1 => Payload::Call {
                to: Address::decode(input)?,
                input: Vec::decode(input)?,
            },
            4 => Payload::Admin {
                contract: Address::decode(input)?,
                action: AdminAction::decode_from(input)?,
            },
            kind => return Err(CodecError(format!("unknown payload kind {kind}"))),
        })
    }

    /// The length of [`Payload::encode_to`]'s bytes, without encoding (a
    /// deploy's code may be megabytes).
    pub fn encoded_len(&self) -> u64 {
        let bytes = |b: &[u8]| 4 + b.len() as u64;
        match self {
            Payload::Deploy(deploy) => deploy.encoded_len(),
            Payload::Call { input, .. } => 1 + 32 + bytes(input),
            Payload::Admin { action, .. } => {
                1 + 32
                    + match action {
                        AdminAction::Upgrade { code, input } => 1 + bytes(code) + bytes(input),
                        AdminAction::SetAdmin(admin) => 2 + if admin.is_some() { 32 } else { 0 },
                    }
            }
        }
    }

    /// The input its first frame runs with: `deploy`'s, `main`'s, or an
    /// upgrade's `migrate`'s (empty for an admin change).
    pub fn input(&self) -> &[u8] {
        match self {
            Payload::Deploy(Deploy { input, .. }) | Payload::Call { input, .. } => input,
            Payload::Admin {
                action: AdminAction::Upgrade { input, .. },
                ..
            } => input,
            Payload::Admin { .. } => &[],
        }
    }

    /// The native asset a transaction of this payload moves when it names
    /// `value`: all of it, but none for an admin payload, whatever its
    /// encoding says.
    pub fn moved_value(&self, value: u128) -> u128 {
        match self {
            Payload::Admin { .. } => 0,
            Payload::Deploy(_) | Payload::Call { .. } => value,
        }
    }
}
