//! The EVM's view of Ward: revm's `Host` over the running frame.
//!
//! One frame is one contract: storage belongs to `self_address`, and every
//! other contract is reached through a Ward call (`crate::frame`). Slots
//! are read through `storage_read` the first time a frame touches them and
//! written through at every `SSTORE`, so a contract this frame calls (or
//! one calling back into this contract) sees what this frame wrote, and a
//! frame that fails leaves nothing behind (Ward reverts it). After every
//! outgoing call the cached values are read again (the callee may have
//! changed them). What the EVM keeps for the whole transaction, the
//! accessed addresses and slots (EIP-2929) and the slots' original values
//! (EIP-2200), is in Ward's transient storage (`crate::access`); this
//! frame's caches only spare it the asking again.

use alloc::{borrow::Cow, collections::BTreeMap, vec::Vec};
use core::cell::{Cell, OnceCell};

use revm_interpreter::{
    Host,
    context_interface::{
        cfg::GasParams,
        context::{SStoreResult, SelfDestructResult, StateLoad},
        host::LoadError,
        journaled_state::AccountInfoLoad,
    },
    primitives::{Address, B256, Bytes, KECCAK_EMPTY, Log, StorageKey, StorageValue, U256},
    state::{AccountInfo, Bytecode},
};
use revm_precompile::{PrecompileSpecId, Precompiles};
use ward_sdk::{env, sys};

use crate::{CHAIN_ID, SPEC, WARD_CALL, access, evm_address, heap, ward_address};

/// A storage slot as this frame knows it.
#[derive(Clone, Copy)]
struct Slot {
    /// Its value when the transaction began.
    original: U256,
    /// Its value now, unless `stale`.
    present: U256,
    /// A call since it was read may have changed it.
    stale: bool,
}

/// An account as this frame loaded it.
struct Account {
    info: AccountInfo,
    /// No code, no nonce and no balance (EIP-161), as last read.
    empty: bool,
    /// Whether `info.balance` must be read again (a call moved value).
    balance_stale: bool,
}

/// The running frame's chain: this contract, its caller, the block.
pub(crate) struct WardHost {
    pub(crate) me: Address,
    pub(crate) caller: Address,
    /// The transaction's sender (`ORIGIN`).
    origin: Address,
    /// This contract's code (empty while it is being deployed), analysed
    /// only if the frame asks for its own account.
    code: Bytes,
    gas_params: GasParams,
    height: u64,
    time: u64,
    slots: BTreeMap<U256, Slot>,
    accounts: BTreeMap<Address, Account>,
    pub(crate) precompiles: &'static Precompiles,
    /// Whether [`WARD_CALL`] is the way to Wasm contracts here (no
    /// contract holds that address), once asked.
    gateway: OnceCell<bool>,
}

/// Whether the instance's lasting state is built.
struct Once(Cell<bool>);
// SAFETY: a wasm32 guest without the threads feature (which Ward's policy
// rejects) has exactly one thread.
unsafe impl Sync for Once {}
static READY: Once = Once(Cell::new(false));

/// Builds what lives as long as the instance, before the first call's heap
/// is reset: revm's lazily built tables (the precompiles of [`SPEC`], the
/// gas parameters, the crypto provider, the empty bytecode), kept on the
/// heap for good. Runs once per instance, uncharged, the same on every
/// node.
pub(crate) fn init_once() {
    if READY.0.get() {
        return;
    }
    // Before anything asks revm for its crypto provider.
    let _ = revm_precompile::install_crypto(crate::kzg::WardCrypto);
    let _ = Precompiles::new(PrecompileSpecId::from_spec_id(SPEC));
    let _ = GasParams::new_spec(SPEC);
    let _ = revm_precompile::crypto();
    let _ = Bytecode::default();
    heap::keep();
    READY.0.set(true);
}

impl WardHost {
    pub(crate) fn new(code: Bytes) -> Self {
        let me = evm_address(&env::self_address().0);
        let caller = evm_address(&env::caller().0);
        let origin = evm_address(&env::origin().0);
        if caller == origin {
            // The transaction's own target (only a sender, which runs no
            // code, calls it): accessed from the start (EIP-2929), as what
            // every later frame calls is accessed by its caller.
            access::mark_address(&me);
        }
        WardHost {
            me,
            caller,
            origin,
            code,
            gas_params: GasParams::new_spec(SPEC),
            height: env::block_height(),
            time: env::block_time(),
            slots: BTreeMap::new(),
            accounts: BTreeMap::new(),
            precompiles: Precompiles::new(PrecompileSpecId::from_spec_id(SPEC)),
            gateway: OnceCell::new(),
        }
    }

    /// Marks every cached slot for a fresh read (after a call: the callee
    /// may have written them).
    pub(crate) fn invalidate(&mut self) {
        for slot in self.slots.values_mut() {
            slot.stale = true;
        }
        // Balances too: the call may have moved value (warmth stays).
        for account in self.accounts.values_mut() {
            account.balance_stale = true;
        }
    }

    /// Slot `key`, accessed: cold when the transaction had not accessed
    /// it.
    fn slot(&mut self, key: U256) -> (Slot, bool) {
        match self.slots.get_mut(&key) {
            Some(slot) if !slot.stale => (*slot, false),
            Some(slot) => {
                slot.present = read_slot(&key);
                slot.stale = false;
                (*slot, false)
            }
            None => {
                let present = read_slot(&key);
                let (original, cold) = match access::slot_original(&key) {
                    Some(original) => (original, false),
                    None => {
                        access::mark_slot(&key, &present);
                        (present, true)
                    }
                };
                let slot = Slot {
                    original,
                    present,
                    stale: false,
                };
                self.slots.insert(key, slot);
                (slot, cold)
            }
        }
    }

    /// Whether slot `key` is warm (without accessing it).
    fn slot_warm(&self, key: &U256) -> bool {
        self.slots.contains_key(key) || access::slot_original(key).is_some()
    }

    /// Whether `address` is warm (without accessing it): this frame has
    /// loaded it, it is warm by EIP-2929's rules (this contract, its
    /// caller, the sender, a precompile), or the transaction has accessed
    /// it.
    fn warm(&self, address: &Address) -> bool {
        self.accounts.contains_key(address)
            || *address == self.me
            || *address == self.caller
            || *address == self.origin
            || self.is_precompile(address)
            || access::address_accessed(address)
    }

    /// Loads `address` (its code when it is a contract's); cold when this
    /// frame had not touched it.
    fn account(&mut self, address: Address) -> (&Account, bool) {
        let cold = !self.warm(&address);
        if cold {
            access::mark_address(&address);
        }
        if !self.accounts.contains_key(&address) {
            let code = if address == self.me {
                Some(self.code.to_vec())
            } else if self.is_precompile(&address) {
                None
            } else {
                code_at(&ward_address(&address))
            };
            let account = match code {
                // A contract, with code or without (EIP-161: a created
                // contract's nonce is 1, so it is never empty).
                Some(code) => {
                    let hash = if code.is_empty() {
                        KECCAK_EMPTY
                    } else {
                        keccak(&code)
                    };
                    Account {
                        info: AccountInfo {
                            balance: U256::ZERO,
                            nonce: 1,
                            code_hash: hash,
                            account_id: None,
                            code: Some(Bytecode::new_raw(code.into())),
                        },
                        empty: false,
                        balance_stale: true,
                    }
                }
                // An account: its nonce is Ward's, which with its
                // balance makes it exist (EIP-161) without code.
                None => Account {
                    info: AccountInfo {
                        balance: U256::ZERO,
                        nonce: if self.is_precompile(&address) {
                            0
                        } else {
                            ward_sdk::env::account_nonce(&crate::frame::payee(&address))
                        },
                        code_hash: KECCAK_EMPTY,
                        account_id: None,
                        code: Some(Bytecode::default()),
                    },
                    empty: true,
                    balance_stale: true,
                },
            };
            self.accounts.insert(address, account);
        }
        if let Some(account) = self.accounts.get_mut(&address)
            && account.balance_stale
        {
            // `BALANCE` / `SELFBALANCE`: the native asset on Ward.
            let balance = ward_sdk::env::balance(&crate::frame::payee(&address));
            account.info.balance = U256::from(balance);
            account.empty =
                account.info.nonce == 0 && account.info.code_hash == KECCAK_EMPTY && balance == 0;
            account.balance_stale = false;
        }
        let account = &self.accounts[&address];
        (account, cold)
    }

    /// Whether `address` runs here rather than as a Ward call.
    pub(crate) fn is_precompile(&self, address: &Address) -> bool {
        self.is_gateway(address) || self.precompiles.contains(address)
    }

    /// Whether `address` is [`WARD_CALL`], the way to Wasm contracts: it
    /// is, unless a contract holds that address (as Ethereum's state
    /// tests deploy one), which is then called as any other.
    pub(crate) fn is_gateway(&self, address: &Address) -> bool {
        *address == WARD_CALL
            && *self
                .gateway
                .get_or_init(|| code_at(&ward_address(&WARD_CALL)).is_none())
    }
}

/// Keccak-256 by Ward's host.
pub(crate) fn keccak(data: &[u8]) -> B256 {
    let mut out = [0u8; 32];
    // SAFETY: `data` and the 32-byte destination are live buffers.
    unsafe {
        sys::hash_keccak256(
            data.as_ptr() as i32,
            data.len() as i32,
            out.as_mut_ptr() as i32,
        )
    };
    B256::new(out)
}

/// Slot `key` of this contract from Ward storage (absent is zero).
fn read_slot(key: &U256) -> U256 {
    let key = key.to_be_bytes::<32>();
    let mut value = [0u8; 32];
    // SAFETY: the key and the destination are live buffers of 32 bytes.
    let len = unsafe { sys::storage_read(key.as_ptr() as i32, 32, value.as_mut_ptr() as i32, 32) };
    if len == 32 {
        U256::from_be_bytes(value)
    } else {
        U256::ZERO
    }
}

/// Writes slot `key` of this contract (zero removes it).
fn write_slot(key: &U256, value: &U256) {
    let key = key.to_be_bytes::<32>();
    if value.is_zero() {
        // SAFETY: the key is a live buffer of 32 bytes.
        unsafe { sys::storage_remove(key.as_ptr() as i32, 32) };
    } else {
        let value = value.to_be_bytes::<32>();
        // SAFETY: the key and the value are live buffers of 32 bytes.
        unsafe { sys::storage_write(key.as_ptr() as i32, 32, value.as_ptr() as i32, 32) };
    }
}

/// Reads transient `key` of this contract (or, for a bookkeeping key, of
/// the runtime's shared space, `crate::access`) into `dst`: its full
/// length, or -1 when absent.
pub(crate) fn transient_read(key: &[u8], dst: &mut [u8]) -> i64 {
    // SAFETY: the key and the destination are live buffers of the given
    // lengths (an empty destination is written nothing).
    unsafe {
        sys::transient_read(
            key.as_ptr() as i32,
            key.len() as i32,
            dst.as_mut_ptr() as i32,
            dst.len() as i32,
        )
    }
}

/// Writes transient `key` as [`transient_read`] reads it (an empty
/// `value` removes it).
pub(crate) fn transient_write(key: &[u8], value: &[u8]) {
    // SAFETY: the key and the value are live buffers of the given lengths.
    unsafe {
        sys::transient_write(
            key.as_ptr() as i32,
            key.len() as i32,
            value.as_ptr() as i32,
            value.len() as i32,
        )
    };
}

/// The code of the contract at Ward address `address`, if there is one.
pub(crate) fn code_at(address: &[u8; 32]) -> Option<Vec<u8>> {
    // SAFETY: the address is 32 live bytes; a zero capacity writes nothing.
    let len = unsafe { sys::code_at(address.as_ptr() as i32, 0, 0) };
    if len < 0 {
        return None;
    }
    let mut code = alloc::vec![0u8; len as usize];
    // SAFETY: `code` has `len` bytes.
    unsafe {
        sys::code_at(
            address.as_ptr() as i32,
            code.as_mut_ptr() as i32,
            len as i32,
        )
    };
    Some(code)
}

impl Host for WardHost {
    fn basefee(&self) -> U256 {
        U256::ZERO
    }

    fn blob_gasprice(&self) -> U256 {
        U256::ZERO
    }

    fn gas_limit(&self) -> U256 {
        U256::from(crate::BLOCK_GAS_LIMIT)
    }

    fn difficulty(&self) -> U256 {
        U256::ZERO
    }

    fn prevrandao(&self) -> Option<U256> {
        Some(U256::ZERO)
    }

    fn block_number(&self) -> U256 {
        U256::from(self.height)
    }

    fn timestamp(&self) -> U256 {
        U256::from(self.time)
    }

    fn beneficiary(&self) -> Address {
        Address::ZERO
    }

    fn slot_num(&self) -> U256 {
        U256::ZERO
    }

    fn chain_id(&self) -> U256 {
        // The chain's Ethereum chain id, what its Ethereum transactions
        // are signed for; "ward" on a chain that takes none.
        match env::chain_id() {
            0 => U256::from(CHAIN_ID),
            id => U256::from(id),
        }
    }

    fn effective_gas_price(&self) -> U256 {
        U256::ZERO
    }

    #[expect(
        clippy::misnamed_getters,
        reason = "revm's `Host::caller` answers `ORIGIN`, the transaction's sender"
    )]
    fn caller(&self) -> Address {
        // `ORIGIN`: the transaction's sender, whatever frame asks.
        self.origin
    }

    fn blob_hash(&self, _number: usize) -> Option<U256> {
        None
    }

    fn max_initcode_size(&self) -> usize {
        2 * crate::MAX_CODE_SIZE
    }

    fn gas_params(&self) -> &GasParams {
        &self.gas_params
    }

    fn is_amsterdam_eip8037_enabled(&self) -> bool {
        false
    }

    fn block_hash(&mut self, _number: u64) -> Option<B256> {
        Some(B256::ZERO)
    }

    fn selfdestruct(
        &mut self,
        _address: Address,
        target: Address,
        skip_cold_load: bool,
    ) -> Result<StateLoad<SelfDestructResult>, LoadError> {
        // The whole balance goes to the target; (EIP-6780) nothing is
        // deleted, as no contract is created and destroyed in one frame.
        let (account, cold) = self.account(target);
        if cold && skip_cold_load {
            return Err(LoadError::ColdLoadSkipped);
        }
        let target_exists = !account.empty;
        let me = ward_sdk::env::self_address();
        let balance = ward_sdk::env::balance(&me);
        let to = crate::frame::payee(&target);
        if balance > 0 && to != me {
            // This contract's own balance: the transfer cannot fall short.
            let _ = ward_sdk::env::transfer(&to, balance);
            self.invalidate();
        }
        Ok(StateLoad::new(
            SelfDestructResult {
                had_value: balance > 0,
                target_exists,
                previously_destroyed: false,
            },
            cold,
        ))
    }

    fn log(&mut self, log: Log) {
        let mut topic = Vec::with_capacity(32 * log.data.topics().len());
        for t in log.data.topics() {
            topic.extend_from_slice(t.as_slice());
        }
        let data = &log.data.data;
        // SAFETY: both ranges are live buffers of the given lengths.
        unsafe {
            sys::emit_event(
                topic.as_ptr() as i32,
                topic.len() as i32,
                data.as_ptr() as i32,
                data.len() as i32,
            )
        };
    }

    fn sstore_skip_cold_load(
        &mut self,
        address: Address,
        key: StorageKey,
        value: StorageValue,
        skip_cold_load: bool,
    ) -> Result<StateLoad<SStoreResult>, LoadError> {
        if address != self.me {
            return Err(LoadError::DBError);
        }
        if skip_cold_load && !self.slot_warm(&key) {
            return Err(LoadError::ColdLoadSkipped);
        }
        let (slot, cold) = self.slot(key);
        if slot.present != value {
            write_slot(&key, &value);
        }
        if let Some(s) = self.slots.get_mut(&key) {
            s.present = value;
        }
        Ok(StateLoad::new(
            SStoreResult {
                original_value: slot.original,
                present_value: slot.present,
                new_value: value,
            },
            cold,
        ))
    }

    fn sload_skip_cold_load(
        &mut self,
        address: Address,
        key: StorageKey,
        skip_cold_load: bool,
    ) -> Result<StateLoad<StorageValue>, LoadError> {
        if address != self.me {
            return Err(LoadError::DBError);
        }
        if skip_cold_load && !self.slot_warm(&key) {
            return Err(LoadError::ColdLoadSkipped);
        }
        let (slot, cold) = self.slot(key);
        Ok(StateLoad::new(slot.present, cold))
    }

    // Transient storage is Ward's (`ward.transient_*`): the frames of one
    // transaction share it, a reverted frame's writes are undone, and it
    // is gone when the transaction ends. `address` is this frame's own.
    fn tstore(&mut self, _address: Address, key: StorageKey, value: StorageValue) {
        let value = value.to_be_bytes::<32>();
        // Zero is absent: an empty value removes the key.
        let value: &[u8] = if value == [0; 32] { &[] } else { &value };
        transient_write(&key.to_be_bytes::<32>(), value);
    }

    fn tload(&mut self, _address: Address, key: StorageKey) -> StorageValue {
        let mut value = [0u8; 32];
        match transient_read(&key.to_be_bytes::<32>(), &mut value) {
            32 => StorageValue::from_be_bytes(value),
            _ => StorageValue::ZERO,
        }
    }

    fn load_account_info_skip_cold_load(
        &mut self,
        address: Address,
        _load_code: bool,
        skip_cold_load: bool,
    ) -> Result<AccountInfoLoad<'_>, LoadError> {
        if skip_cold_load && !self.warm(&address) {
            return Err(LoadError::ColdLoadSkipped);
        }
        let (account, cold) = self.account(address);
        Ok(AccountInfoLoad {
            account: Cow::Borrowed(&account.info),
            is_cold: cold,
            is_empty: account.empty,
        })
    }
}
