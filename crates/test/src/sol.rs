//! Contracts of the Solidity ABI (`ward_sdk::contract!` with `abi:
//! solidity;`), driven as Ethereum tools drive them: a function by its
//! Rust name (its selector is its camelCase name's), arguments and
//! results ABI-encoded, reverts as Solidity's revert data.

use ward_sdk::sol::{self, SolType};

use crate::{Address, Chain, Contract, Outcome, TxBuilder, Wasm};

pub use ward_sdk::sol::calldata;

impl Chain {
    /// Deploys `wasm` from `sender`, its constructor's arguments
    /// ABI-encoded (a tuple; `&()` for none).
    ///
    /// # Panics
    ///
    /// When the deploy fails, with its message and trace.
    pub fn deploy_sol<T: SolType>(&mut self, sender: Address, wasm: &Wasm, args: &T) -> Contract {
        self.tx(sender).deploy_sol(wasm, args).contract()
    }

    /// Calls the function `function` (its Rust name) of `contract` from
    /// `sender` with `args` (a tuple; `&()` for none).
    pub fn call_sol<T: SolType>(
        &mut self,
        sender: Address,
        contract: &Contract,
        function: &str,
        args: &T,
    ) -> Outcome {
        self.tx(sender).call_sol(contract, function, args)
    }

    /// Runs `function` read-only and decodes its result.
    ///
    /// # Panics
    ///
    /// When the query fails or its output is not an `R`.
    pub fn query_sol<R: SolType, T: SolType>(
        &self,
        contract: &Contract,
        function: &str,
        args: &T,
    ) -> R {
        self.run_query(contract, None, calldata(function, args))
            .assert_ok()
            .sol::<R>()
    }
}

impl TxBuilder<'_> {
    /// Deploys `wasm` with its constructor's arguments ABI-encoded.
    pub fn deploy_sol<T: SolType>(self, wasm: &Wasm, args: &T) -> Outcome {
        self.deploy_raw(wasm, sol::encode_params(args))
    }

    /// Calls `function` of `contract` with `args`, ABI-encoded.
    pub fn call_sol<T: SolType>(self, contract: &Contract, function: &str, args: &T) -> Outcome {
        self.call_raw(contract, None, calldata(function, args))
    }
}

impl Outcome {
    /// The result of a function of the Solidity ABI.
    ///
    /// # Panics
    ///
    /// When the output is not an ABI-encoded `R`.
    pub fn sol<R: SolType>(&self) -> R {
        sol::decode_params::<(R,)>(self.output())
            .unwrap_or_else(|e| panic!("ward-test: the output is not ABI-encoded: {e}: {self:?}"))
            .0
    }

    /// Asserts that the call reverted with Solidity's `Error(message)`.
    ///
    /// # Panics
    ///
    /// When it did not.
    pub fn assert_sol_reverted(&self, message: &str) -> &Self {
        let got = sol::decode_error_message(self.output());
        assert!(
            self.status() == "reverted" && got.as_deref() == Some(message),
            "ward-test: expected a revert with Error({message:?}), got {} with {got:?}: {self:?}",
            self.status()
        );
        self
    }
}

/// Where a deploy by Ethereum account `deployer` with its transaction
/// number `nonce` lands: `CREATE`'s address, as on Ethereum (an Ethereum
/// account's transactions in ward-test run as it signed them).
///
/// # Panics
///
/// When `deployer` is not of [`Address::from_eth`]'s form.
pub fn create_address(deployer: Address, nonce: u64) -> Address {
    let from = deployer
        .eth()
        .unwrap_or_else(|| panic!("ward-test: {deployer} is not an Ethereum account"));
    Address::from_eth(ward_chain::tx::eth::create_address(from, nonce))
}
