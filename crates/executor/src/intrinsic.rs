//! What a transaction pays before anything runs, and how its gas, counted
//! in its own unit ([`GasUnit`]), becomes the Ward gas its frames run on
//! (`docs/gas.md`, `docs/ethereum.md` "Gas").
//!
//! A transaction in Ward gas pays Ward's intrinsic cost (`tx_base +
//! tx_per_byte` × its size) and its frames get the rest. One in EVM gas
//! (an Ethereum transaction) pays Ethereum's intrinsic gas, computed by
//! revm as Ethereum's clients compute it (21 000, calldata, access list,
//! creation and EIP-3860's initcode words, EIP-7623's floor), and its
//! frames get the rest at [`EVM_GAS_RATE`] Ward gas per EVM gas, the rate
//! the EVM runtime charges; what they use comes back as EVM gas, rounded
//! up, with the floor under it, as Prague counts it.

use revm_context_interface::{cfg::gas::calculate_initial_tx_gas, primitives::hardfork::SpecId};
use ward_chain::tx::{
    GasUnit, Payload, VerifiedTx,
    eth::{EVM_RUNTIME, WASM_CREATION_PREFIX},
};
use ward_primitives::CodeKind;

/// Ward gas per EVM gas: what the EVM runtime charges for each unit of
/// EVM gas it spends (`contracts/evm`'s `GAS_RATE`), and so what a
/// transaction in EVM gas gives its frames for each unit of its limit
/// above its intrinsic gas.
pub const EVM_GAS_RATE: u64 = 64;

/// EIP-3860's longest initcode an Ethereum creation may carry: twice
/// EIP-170's longest code (`contracts/evm`'s `MAX_CODE_SIZE`, 24 576
/// bytes), as `CREATE` and `CREATE2` allow inside the runtime.
pub const MAX_INITCODE_SIZE: usize = 2 * 0x6000;

/// `payload`'s EVM initcode, if it is a creation of EVM code.
pub(crate) fn evm_initcode(payload: &Payload) -> Option<&[u8]> {
    match payload {
        Payload::Deploy(deploy) => match &deploy.kind {
            CodeKind::Runtime(name) if name.as_str() == EVM_RUNTIME => Some(&deploy.code),
            _ => None,
        },
        _ => None,
    }
}

/// The Ethereum revision whose intrinsic gas a transaction in EVM gas
/// pays: the EVM runtime's (`contracts/evm`'s `SPEC`).
const SPEC: SpecId = SpecId::PRAGUE;

/// What a transaction pays before anything runs, in its own unit, and how
/// its frames' Ward gas becomes its gas used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Intrinsic {
    /// Paid before anything runs, in the transaction's unit.
    pub cost: u64,
    /// The least gas it uses (EIP-7623's floor for one in EVM gas; its
    /// cost for one in Ward gas).
    pub floor: u64,
    /// Whether its unit is EVM gas.
    evm: bool,
}

impl Intrinsic {
    /// A transaction in Ward gas that pays `cost` Ward gas first.
    pub(crate) fn ward(cost: u64) -> Intrinsic {
        Intrinsic {
            cost,
            floor: cost,
            evm: false,
        }
    }

    /// What `tx` pays first: Ward's `ward_cost` in Ward gas, or in EVM gas
    /// Ethereum's intrinsic gas of its data, creation and access list.
    pub(crate) fn of(tx: &VerifiedTx, ward_cost: u64) -> Intrinsic {
        let GasUnit::Ethereum(access) = tx.gas_unit() else {
            return Intrinsic::ward(ward_cost);
        };
        let (data, create) = ethereum_data(tx.payload());
        let gas =
            calculate_initial_tx_gas(SPEC, &data, create, access.accounts, access.keys, 0, None);
        let cost = gas
            .initial_regular_gas
            .saturating_add(gas.initial_state_gas);
        Intrinsic {
            cost,
            floor: gas.floor_gas.max(cost),
            evm: true,
        }
    }

    /// The least gas limit that covers it (its floor, which is at least
    /// its cost).
    pub fn least_limit(&self) -> u64 {
        self.floor
    }

    /// Whether it counts EVM gas.
    pub fn is_evm(&self) -> bool {
        self.evm
    }

    /// Ward gas worth `gas` of the transaction's unit (saturating): what
    /// a block's gas maximum and a transaction's Ward maximum count.
    pub fn to_ward(&self, gas: u64) -> u64 {
        if self.evm {
            gas.saturating_mul(EVM_GAS_RATE)
        } else {
            gas
        }
    }

    /// The Ward gas its frames get with gas limit `limit` (which covers
    /// the cost): what is left of the limit, in Ward gas.
    pub fn frames_gas(&self, limit: u64) -> u64 {
        self.to_ward(limit.saturating_sub(self.cost))
    }

    /// Its gas used, in its unit, when its frames used `ward` Ward gas:
    /// the cost and what they used (rounded up to whole EVM gas), at
    /// least the floor.
    pub fn gas_used(&self, ward: u64) -> u64 {
        let frames = if self.evm {
            ward.div_ceil(EVM_GAS_RATE)
        } else {
            ward
        };
        self.cost.saturating_add(frames).max(self.floor)
    }

    /// What it charges before its frames run, in Ward gas (a trace's
    /// "intrinsic" charge).
    pub fn ward_cost(&self) -> u64 {
        self.to_ward(self.cost)
    }
}

/// An Ethereum transaction's data, as its intrinsic gas counts it, and
/// whether it creates a contract: a call's input, or the creation data
/// the deploy came from (EVM creation code, or a Wasm module in
/// [`ward_chain::tx::eth::wasm_creation_code`]'s form with its constructor's input).
fn ethereum_data(payload: &Payload) -> (std::borrow::Cow<'_, [u8]>, bool) {
    match payload {
        Payload::Call { input, .. } => (input.as_slice().into(), false),
        Payload::Admin { .. } => (payload.input().into(), false),
        Payload::Deploy(deploy) => {
            if let Some(initcode) = evm_initcode(payload) {
                return (initcode.into(), true);
            }
            // `wasm_creation_code`'s form (its length field saturates
            // where no transaction reaches).
            let len = u32::try_from(deploy.code.len()).unwrap_or(u32::MAX);
            let mut data = Vec::with_capacity(7 + deploy.code.len() + deploy.input.len());
            data.extend_from_slice(&WASM_CREATION_PREFIX);
            data.extend_from_slice(&len.to_be_bytes());
            data.extend_from_slice(&deploy.code);
            data.extend_from_slice(&deploy.input);
            (data.into(), true)
        }
    }
}
