//! A transaction put together one option at a time: [`Chain::tx`].

use std::sync::Arc;

use serde_json::Value;
use ward_chain::schema::Schema;
use ward_executor::{AdminAction, Deploy, Payload, Tx};
use ward_primitives::Address;
use ward_sdk::codec::{Encode, call_input, encode};

use super::{CALL_GAS, Chain, Contract, DEPLOY_GAS};
use crate::{Outcome, Wasm};

/// A transaction being put together: [`Chain::tx`].
#[derive(Debug)]
pub struct TxBuilder<'a> {
    pub(super) chain: &'a mut Chain,
    pub(super) sender: Address,
    pub(super) value: u128,
    pub(super) gas: Option<u64>,
    pub(super) salt: Option<Vec<u8>>,
    pub(super) admin: Option<Address>,
}

impl TxBuilder<'_> {
    /// Sends `value` of the native asset with it.
    pub fn value(mut self, value: u128) -> Self {
        self.value = value;
        self
    }

    /// Its gas limit (default [`CALL_GAS`] for a call, [`DEPLOY_GAS`] for
    /// a deploy).
    pub fn gas(mut self, gas: u64) -> Self {
        self.gas = Some(gas);
        self
    }

    /// A deploy's salt (default: the module's name), which with the
    /// sender and the code decides the address.
    pub fn salt(mut self, salt: impl Into<Vec<u8>>) -> Self {
        self.salt = Some(salt.into());
        self
    }

    /// A deploy's admin, who may upgrade the contract (default: none; the
    /// contract is immutable).
    pub fn admin(mut self, admin: Address) -> Self {
        self.admin = Some(admin);
        self
    }

    /// Replaces `contract`'s code with `wasm` (the sender must be its
    /// admin), running the new code's `migrate` with `args` when it
    /// exports one; on success `contract` takes the new schema.
    pub fn upgrade(self, contract: &mut Contract, wasm: &Wasm, args: &impl Encode) -> Outcome {
        let tx = Tx {
            sender: self.sender,
            gas_limit: self.gas.unwrap_or(DEPLOY_GAS),
            value: 0,
            payload: Payload::Admin {
                contract: contract.address,
                action: AdminAction::Upgrade {
                    code: wasm.bytes().to_vec(),
                    input: encode(args),
                },
            },
        };
        let outcome = self.chain.submit(tx, None, Some(contract.clone()));
        if outcome.is_ok() {
            contract.schema = Schema::from_module(wasm.bytes())
                .ok()
                .flatten()
                .map(Arc::new);
            contract.name = wasm.name().to_owned();
        }
        outcome
    }

    /// Hands `contract`'s admin to `admin`, or drops it (`None`: the
    /// contract is immutable from then on). The sender must be its admin.
    pub fn set_admin(self, contract: &Contract, admin: Option<Address>) -> Outcome {
        let tx = Tx {
            sender: self.sender,
            gas_limit: self.gas.unwrap_or(CALL_GAS),
            value: 0,
            payload: Payload::Admin {
                contract: contract.address,
                action: AdminAction::SetAdmin(admin),
            },
        };
        self.chain.submit(tx, None, Some(contract.clone()))
    }

    /// Deploys `wasm` with `init`'s arguments: the outcome, success or
    /// not ([`Outcome::contract`] for the contract).
    pub fn deploy(self, wasm: &Wasm, init: &impl Encode) -> Outcome {
        self.deploy_raw(wasm, encode(init))
    }

    /// Deploys `wasm` with `init`'s arguments as JSON, through its schema.
    ///
    /// # Panics
    ///
    /// When the module has no schema or the arguments do not fit it.
    pub fn deploy_json(self, wasm: &Wasm, init: Value) -> Outcome {
        let schema = Schema::from_module(wasm.bytes())
            .ok()
            .flatten()
            .unwrap_or_else(|| panic!("ward-test: {} has no schema section", wasm.name()));
        let input = schema
            .encode_init(&init)
            .unwrap_or_else(|e| panic!("ward-test: init: {e}"));
        self.deploy_raw(wasm, input)
    }

    /// Deploys `wasm` with `input` as it is (a contract of the Solidity
    /// ABI takes its constructor's arguments ABI-encoded:
    /// `ward_sdk::sol::encode_params`).
    pub fn deploy_raw(self, wasm: &Wasm, input: Vec<u8>) -> Outcome {
        let tx = Tx {
            sender: self.sender,
            gas_limit: self.gas.unwrap_or(DEPLOY_GAS),
            value: self.value,
            payload: Payload::Deploy(
                Deploy::new(wasm.bytes().to_vec(), input)
                    .with_salt(self.salt.unwrap_or_else(|| wasm.name().as_bytes().to_vec()))
                    .with_admin(self.admin),
            ),
        };
        let contract = Contract {
            address: Address([0; 32]),
            name: wasm.name().to_owned(),
            schema: Schema::from_module(wasm.bytes())
                .ok()
                .flatten()
                .map(Arc::new),
        };
        self.chain.submit(tx, None, Some(contract))
    }

    /// Calls `method` of `contract` with `args`.
    pub fn call(self, contract: &Contract, method: &str, args: &impl Encode) -> Outcome {
        let input = call_input(method, args);
        self.call_raw(contract, Some(method), input)
    }

    /// Calls `method` with arguments as JSON through the contract's schema.
    ///
    /// # Panics
    ///
    /// When the contract has no schema or the arguments do not fit it.
    pub fn call_json(self, contract: &Contract, method: &str, args: Value) -> Outcome {
        let input = contract
            .schema_or_panic()
            .encode_call(method, &args)
            .unwrap_or_else(|e| panic!("ward-test: {method}: {e}"));
        self.call_raw(contract, Some(method), input)
    }

    /// Sends `input` as it is to `contract`'s `main` (`method`, when
    /// known, decodes the output as JSON).
    pub fn call_raw(self, contract: &Contract, method: Option<&str>, input: Vec<u8>) -> Outcome {
        let tx = Tx {
            sender: self.sender,
            gas_limit: self.gas.unwrap_or(CALL_GAS),
            value: self.value,
            payload: Payload::Call {
                to: contract.address,
                input,
            },
        };
        self.chain
            .submit(tx, method.map(str::to_owned), Some(contract.clone()))
    }

    /// Moves `value` to `to` (an account or a contract) with no input.
    pub fn transfer(self, to: Address) -> Outcome {
        let tx = Tx {
            sender: self.sender,
            gas_limit: self.gas.unwrap_or(CALL_GAS),
            value: self.value,
            payload: Payload::Call {
                to,
                input: Vec::new(),
            },
        };
        self.chain.submit(tx, None, None)
    }
}
