//! The whole state in one read transaction ([`StateScan`]), for
//! snapshots.

use redb::{ReadTransaction, ReadableTable, TableDefinition};
use ward_primitives::{Address, Hash32};

use super::{
    BALANCES, CODE, CONTRACTS, HEIGHT_KEY, META, NONCES, RedbStore, SETTINGS, STORAGE, corrupt,
};
use crate::{ChangeSet, ContractInfo, Decode, StateError, StateScan};

/// A table's rows as raw keys and values.
type Raw<V> = Vec<(Vec<u8>, V)>;

/// The raw rows [`StateScan::whole_state`] reads in one transaction.
struct Rows {
    height: u64,
    code: Raw<Vec<u8>>,
    contracts: Raw<Vec<u8>>,
    storage: Raw<Vec<u8>>,
    nonces: Raw<u64>,
    balances: Raw<u128>,
    settings: Vec<(String, Vec<u8>)>,
}

/// An address from a table key of 32 bytes (or more: the rest is the
/// caller's).
fn address_in(key: &[u8], table: &'static str) -> Result<Address, StateError> {
    key.first_chunk::<32>()
        .map(|a| Address(*a))
        .ok_or(StateError::Corrupt {
            table,
            message: format!("a key of {} bytes, not an address", key.len()),
        })
}

impl StateScan for RedbStore {
    fn whole_state(&self) -> Result<(u64, ChangeSet), StateError> {
        fn bytes(
            txn: &ReadTransaction,
            table: TableDefinition<'_, &'static [u8], &'static [u8]>,
        ) -> Result<Raw<Vec<u8>>, redb::Error> {
            let table = txn.open_table(table)?;
            let mut out = Vec::new();
            for entry in table.iter()? {
                let (key, value) = entry?;
                out.push((key.value().to_vec(), value.value().to_vec()));
            }
            Ok(out)
        }
        let rows = self.read(|txn| {
            let meta = txn.open_table(META)?;
            let height = meta.get(HEIGHT_KEY)?.map_or(0, |v| v.value());
            let mut nonces = Vec::new();
            for entry in txn.open_table(NONCES)?.iter()? {
                let (key, value) = entry?;
                nonces.push((key.value().to_vec(), value.value()));
            }
            let mut balances = Vec::new();
            for entry in txn.open_table(BALANCES)?.iter()? {
                let (key, value) = entry?;
                balances.push((key.value().to_vec(), value.value()));
            }
            let mut settings = Vec::new();
            for entry in txn.open_table(SETTINGS)?.iter()? {
                let (key, value) = entry?;
                settings.push((key.value().to_owned(), value.value().to_vec()));
            }
            Ok(Rows {
                height,
                code: bytes(txn, CODE)?,
                contracts: bytes(txn, CONTRACTS)?,
                storage: bytes(txn, STORAGE)?,
                nonces,
                balances,
                settings,
            })
        })?;
        let Rows {
            height,
            code,
            contracts,
            storage,
            nonces,
            balances,
            settings,
        } = rows;
        let mut changes = ChangeSet::default();
        for (hash, bytes) in code {
            changes
                .code
                .insert(Hash32(address_in(&hash, "code")?.0), bytes);
        }
        for (address, bytes) in contracts {
            let info = ContractInfo::from_bytes(&bytes).map_err(corrupt("contracts"))?;
            changes
                .contracts
                .insert(address_in(&address, "contracts")?, info);
        }
        for (key, value) in storage {
            let address = address_in(&key, "storage")?;
            changes
                .storage
                .insert((address, key[32..].to_vec()), Some(value));
        }
        for (account, nonce) in nonces {
            changes
                .nonces
                .insert(address_in(&account, "nonces")?, nonce);
        }
        for (address, balance) in balances {
            changes
                .balances
                .insert(address_in(&address, "balances")?, balance);
        }
        changes.settings = settings.into_iter().collect();
        Ok((height, changes))
    }
}
