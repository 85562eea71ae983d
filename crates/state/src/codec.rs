//! The state's records in Ward's encoding (`ward_primitives::codec`),
//! written down in `docs/storage-format.md`.

use ward_primitives::{
    Address, CodeKind, Hash32, Status,
    codec::{decode_list, encode_list},
};

pub use ward_primitives::codec::{CodecError, Decode, Encode};

use crate::{BlockRecord, ContractInfo, Event, Header, Receipt, StateError};

/// A number the state tree holds as a value (a nonce, a balance), from
/// the value's bytes: 0 where there are none.
///
/// # Errors
///
/// [`StateError::Corrupt`] when the bytes are not one number.
pub(crate) fn tree_number<T: Decode + Default>(bytes: Option<Vec<u8>>) -> Result<T, StateError> {
    bytes.map_or(Ok(T::default()), |bytes| {
        T::from_bytes(&bytes).map_err(corrupt("tree_values"))
    })
}

/// What a record of `table` that does not decode is: [`StateError::Corrupt`].
pub(crate) fn corrupt(table: &'static str) -> impl Fn(CodecError) -> StateError {
    move |e| StateError::Corrupt {
        table,
        message: e.0,
    }
}

impl Encode for ContractInfo {
    fn encode(&self, out: &mut Vec<u8>) {
        self.code_hash.encode(out);
        self.deployer.encode(out);
        self.created_at.encode(out);
        // A Ward contract's record ends here (as it always did), and any
        // other kind appends its tag (and a runtime's name), unless the
        // contract has an admin or has been upgraded: then a marker
        // (LIFECYCLE), the kind whatever it is, the admin and the code
        // history follow.
        let upgradable = self.admin.is_some() || !self.history.is_empty();
        if upgradable {
            LIFECYCLE.encode(out);
            self.kind.encode_any(out);
            match self.admin {
                Some(admin) => {
                    1u8.encode(out);
                    admin.encode(out);
                }
                None => 0u8.encode(out),
            }
            (self.history.len() as u32).encode(out);
            for (height, hash) in &self.history {
                height.encode(out);
                hash.encode(out);
            }
        } else if self.kind != CodeKind::Ward {
            self.kind.encode_explicit(out);
        }
    }
}

/// The byte after a contract record's height that says an admin and a
/// code history follow (no kind's explicit tag is this).
const LIFECYCLE: u8 = 0x80;

impl Decode for ContractInfo {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        let code_hash = Hash32::decode(input)?;
        let deployer = Address::decode(input)?;
        let created_at = u64::decode(input)?;
        let upgradable = input.first() == Some(&LIFECYCLE);
        if upgradable {
            *input = &input[1..];
        }
        let kind = if input.is_empty() {
            CodeKind::Ward
        } else if upgradable {
            CodeKind::decode_any(input)?
        } else {
            CodeKind::decode_explicit(input)?
        };
        let (mut admin, mut history) = (None, Vec::new());
        if upgradable {
            admin = match u8::decode(input)? {
                0 => None,
                1 => Some(Address::decode(input)?),
                tag => return Err(CodecError(format!("admin tag {tag}"))),
            };
            let count = u32::decode(input)?;
            // Each entry is 40 bytes: a count past the input is damage.
            if count as usize > input.len() / 40 {
                return Err(CodecError(format!("{count} code history entries")));
            }
            for _ in 0..count {
                history.push((u64::decode(input)?, Hash32::decode(input)?));
            }
        }
        Ok(ContractInfo {
            code_hash,
            deployer,
            created_at,
            kind,
            admin,
            history,
        })
    }
}

impl Encode for Event {
    fn encode(&self, out: &mut Vec<u8>) {
        self.contract.encode(out);
        self.topic.encode(out);
        self.data.encode(out);
    }
}
impl Decode for Event {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(Event {
            contract: Address::decode(input)?,
            topic: Vec::decode(input)?,
            data: Vec::decode(input)?,
        })
    }
}

impl Encode for Receipt {
    fn encode(&self, out: &mut Vec<u8>) {
        self.tx.encode(out);
        self.height.encode(out);
        self.index.encode(out);
        self.status.encode(out);
        self.exit_code.encode(out);
        self.output.encode(out);
        self.gas_used.encode(out);
        encode_list(&self.events, out);
        self.error_kind.encode(out);
        self.error_message.encode(out);
        self.address.encode(out);
        // A receipt without a runtime's gas or a fee ends here (as it
        // always did); after it, 8 bytes are the runtime's gas, 16 the
        // fee, 24 both.
        if let Some(units) = self.runtime_gas {
            units.encode(out);
        }
        if self.fee != 0 {
            self.fee.encode(out);
        }
    }
}
impl Decode for Receipt {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(Receipt {
            tx: Hash32::decode(input)?,
            height: u64::decode(input)?,
            index: u32::decode(input)?,
            status: Status::decode(input)?,
            exit_code: i32::decode(input)?,
            output: Vec::decode(input)?,
            gas_used: u64::decode(input)?,
            events: decode_list(input)?,
            error_kind: Option::decode(input)?,
            error_message: Option::decode(input)?,
            address: Option::decode(input)?,
            runtime_gas: match input.len() {
                8 | 24 => Some(u64::decode(input)?),
                _ => None,
            },
            fee: match input.len() {
                0 => 0,
                _ => match u128::decode(input)? {
                    0 => return Err(CodecError("a receipt's fee of zero is encoded".into())),
                    fee => fee,
                },
            },
        })
    }
}

impl Encode for BlockRecord {
    fn encode(&self, out: &mut Vec<u8>) {
        self.header.encode(out);
        encode_list(&self.txs, out);
    }
}
impl Decode for BlockRecord {
    fn decode(input: &mut &[u8]) -> Result<Self, CodecError> {
        Ok(BlockRecord {
            header: Header::decode(input)?,
            txs: decode_list(input)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_records_with_an_admin_or_a_history_round_trip() {
        let plain = ContractInfo {
            code_hash: Hash32([1; 32]),
            deployer: Address([2; 32]),
            created_at: 3,
            kind: CodeKind::Ward,
            admin: None,
            history: Vec::new(),
        };
        let wasi = ContractInfo {
            kind: CodeKind::Wasi,
            ..plain.clone()
        };
        let admin = ContractInfo {
            admin: Some(Address([4; 32])),
            ..plain.clone()
        };
        let upgraded = ContractInfo {
            history: vec![(3, Hash32([9; 32])), (8, Hash32([1; 32]))],
            ..wasi.clone()
        };
        // Records without an admin or a history are as they always were.
        assert_eq!(plain.to_bytes().len(), 32 + 32 + 8);
        assert_eq!(wasi.to_bytes().len(), 32 + 32 + 8 + 1);
        for info in [plain, wasi, admin, upgraded] {
            let bytes = info.to_bytes();
            assert_eq!(ContractInfo::from_bytes(&bytes), Ok(info.clone()));
            for cut in 0..bytes.len() {
                let back = ContractInfo::from_bytes(&bytes[..cut]);
                assert!(back.is_err() || back != Ok(info.clone()), "cut {cut}");
            }
            let mut longer = bytes.clone();
            longer.push(0);
            assert!(ContractInfo::from_bytes(&longer).is_err());
        }
    }

    #[test]
    fn records_round_trip_and_garbage_is_an_error() {
        let receipt = Receipt {
            fee: 0,
            tx: Hash32([3; 32]),
            height: 7,
            index: 1,
            status: Status::Reverted,
            exit_code: 2,
            output: b"no".to_vec(),
            gas_used: 1234,
            events: vec![Event {
                contract: Address([1; 32]),
                topic: b"t".to_vec(),
                data: b"d".to_vec(),
            }],
            error_kind: None,
            error_message: Some("m".into()),
            address: Some(Address([9; 32])),
            runtime_gas: None,
        };
        let bytes = receipt.to_bytes();
        assert_eq!(Receipt::from_bytes(&bytes), Ok(receipt.clone()));
        // Every truncation and a trailing byte are errors, never panics.
        for cut in 0..bytes.len() {
            assert!(Receipt::from_bytes(&bytes[..cut]).is_err(), "cut {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Receipt::from_bytes(&longer).is_err());

        // A runtime's gas is appended; a receipt without one is encoded and
        // hashed as before, so it is a different receipt.
        let evm = Receipt {
            runtime_gas: Some(29_854),
            ..receipt.clone()
        };
        let evm_bytes = evm.to_bytes();
        assert_eq!(evm_bytes.len(), bytes.len() + 8);
        assert_eq!(evm_bytes[..bytes.len()], bytes[..]);
        assert_eq!(Receipt::from_bytes(&evm_bytes), Ok(evm.clone()));
        assert_ne!(evm.consensus_hash(), receipt.consensus_hash());
        for cut in bytes.len() + 1..evm_bytes.len() {
            assert!(Receipt::from_bytes(&evm_bytes[..cut]).is_err(), "cut {cut}");
        }
    }
}
