//! A chain's genesis (`ward serve --genesis FILE`, `docs/economics.md`):
//! its id, its native asset, the balances it starts with, the lowest gas
//! price it takes, where fees go, and its limits.
//!
//! Amounts are in the asset's smallest unit, written in JSON as strings of
//! decimal digits (a `u128` does not fit a JSON number exactly); a plain
//! number is accepted up to 2^53. The balances of a chain can never add up
//! past `u128::MAX`, so no balance can overflow later.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ward_devkeys as devkeys;
use ward_executor::{ChainLimits, Fees};
use ward_primitives::Address;

/// An amount of the native asset (the RPC's wire type), and its parser.
pub use ward_rpc::wire::{Amount, parse_amount};

/// The chain's native asset; a genesis checks its name and decimals
/// ([`MAX_DECIMALS`]).
pub use ward_rpc::results::Asset;

/// The most decimals an asset may have: 10^30 smallest units make a whole
/// one, leaving room for 3.4e8 whole units in a `u128`.
pub const MAX_DECIMALS: u8 = 30;

/// Limits a genesis may set; each one left out is this build's default
/// ([`ChainLimits::default`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisLimits {
    /// [`ChainLimits::max_tx_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tx_bytes: Option<u64>,
    /// [`ChainLimits::max_tx_gas`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tx_gas: Option<u64>,
    /// [`ChainLimits::max_block_gas`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_block_gas: Option<u64>,
    /// [`ChainLimits::tx_memory_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tx_memory_bytes: Option<u64>,
    /// [`ChainLimits::max_instances`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_instances: Option<u64>,
    /// [`ChainLimits::max_tx_event_bytes`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tx_event_bytes: Option<u64>,
}

/// What a chain starts with (the JSON of `ward serve --genesis FILE`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// The chain id transactions are signed for.
    pub chain_id: String,
    /// The native asset.
    pub asset: Asset,
    /// Starting balances by address (`0x` and 64 hex digits).
    #[serde(default)]
    pub balances: BTreeMap<String, Amount>,
    /// The lowest gas price a transaction may name.
    pub min_gas_price: Amount,
    /// Who receives fees (an address); absent or `null`: fees are burned.
    #[serde(default)]
    pub fee_collector: Option<String>,
    /// The numeric chain id Ethereum transactions are signed for
    /// (EIP-155, `docs/ethereum.md`); absent or `null`: the chain takes
    /// no Ethereum transactions.
    #[serde(default)]
    pub eth_chain_id: Option<u64>,
    /// Limits other than this build's defaults.
    #[serde(default)]
    pub limits: GenesisLimits,
}

/// Each dev account's starting balance on a `--dev` chain: a billion whole
/// units of an 18-decimal asset.
pub const DEV_BALANCE: u128 = 1_000_000_000 * 10u128.pow(18);

/// Every dev account's address: Ward's Ed25519 ones
/// ([`devkeys::address`]), then the Ethereum ones of the test
/// mnemonic ([`devkeys::eth_address`]).
pub fn dev_addresses() -> Vec<Address> {
    let accounts = 0..devkeys::ACCOUNTS;
    accounts
        .clone()
        .map(devkeys::address)
        .chain(accounts.map(|i| Address::from_eth(devkeys::eth_address(i))))
        .collect()
}

/// The Ethereum chain id of a `--dev` chain: Hardhat's and anvil's, which
/// wallets and frameworks know as a local development chain.
pub const DEV_ETH_CHAIN_ID: u64 = 31_337;

impl Genesis {
    /// The genesis of a `--dev` chain without a file: the default asset,
    /// every dev account ([`dev_addresses`]: Ward's and the test
    /// mnemonic's) funded with [`DEV_BALANCE`], free gas allowed, fees
    /// burned, Ethereum chain id [`DEV_ETH_CHAIN_ID`].
    pub fn dev(chain_id: &str) -> Genesis {
        let balances = dev_addresses()
            .into_iter()
            .map(|address| (address.to_string(), Amount(DEV_BALANCE)))
            .collect();
        Genesis {
            chain_id: chain_id.to_owned(),
            asset: Asset::default(),
            balances,
            min_gas_price: Amount(0),
            fee_collector: None,
            eth_chain_id: Some(DEV_ETH_CHAIN_ID),
            limits: GenesisLimits::default(),
        }
    }

    /// The template `ward genesis` writes: one funded account, a minimum
    /// price of 1, fees burned.
    pub fn template(chain_id: &str, account: Address, balance: u128) -> Genesis {
        Genesis {
            chain_id: chain_id.to_owned(),
            asset: Asset::default(),
            balances: [(account.to_string(), Amount(balance))]
                .into_iter()
                .collect(),
            min_gas_price: Amount(1),
            fee_collector: None,
            eth_chain_id: None,
            limits: GenesisLimits::default(),
        }
    }

    /// Reads and checks a genesis file's JSON.
    ///
    /// # Errors
    ///
    /// JSON that does not decode, or a genesis [`Genesis::check`] refuses.
    pub fn from_json(bytes: &[u8]) -> Result<Genesis, String> {
        let genesis: Genesis = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        genesis.check()?;
        Ok(genesis)
    }

    /// Checks what JSON cannot say: the chain id's syntax, the asset, the
    /// addresses, and a total supply within `u128`.
    ///
    /// # Errors
    ///
    /// What is wrong, in a sentence.
    pub fn check(&self) -> Result<(), String> {
        ward_chain::tx::check_chain_id(&self.chain_id).map_err(|e| e.to_string())?;
        let name = &self.asset.name;
        if name.is_empty() || name.len() > 16 || !name.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(format!(
                "the asset's name {name:?} is not 1 to 16 ASCII letters and digits"
            ));
        }
        if self.asset.decimals > MAX_DECIMALS {
            return Err(format!(
                "the asset has {} decimals, at most {MAX_DECIMALS}",
                self.asset.decimals
            ));
        }
        self.accounts()?;
        if let Some(collector) = &self.fee_collector {
            address(collector)?;
        }
        Ok(())
    }

    /// The starting balances, by address.
    ///
    /// # Errors
    ///
    /// An address that does not parse, or balances adding up past
    /// `u128::MAX`.
    pub fn accounts(&self) -> Result<BTreeMap<Address, u128>, String> {
        let mut total = 0u128;
        let mut accounts = BTreeMap::new();
        for (text, amount) in &self.balances {
            let address = address(text)?;
            total = total
                .checked_add(amount.0)
                .ok_or("the balances add up past the largest amount")?;
            if accounts.insert(address, amount.0).is_some() {
                return Err(format!("{address} is listed twice"));
            }
        }
        Ok(accounts)
    }

    /// The fee rules.
    ///
    /// # Errors
    ///
    /// A collector address that does not parse.
    pub fn fees(&self) -> Result<Fees, String> {
        Ok(Fees {
            min_gas_price: self.min_gas_price.0,
            min_evm_gas_price: None,
            collector: self.fee_collector.as_deref().map(address).transpose()?,
        })
    }

    /// The chain's limits: the genesis's, or this build's defaults.
    pub fn chain_limits(&self) -> ChainLimits {
        let d = ChainLimits::default();
        let l = &self.limits;
        ChainLimits {
            max_tx_bytes: l.max_tx_bytes.unwrap_or(d.max_tx_bytes),
            max_tx_gas: l.max_tx_gas.unwrap_or(d.max_tx_gas),
            max_block_gas: l.max_block_gas.unwrap_or(d.max_block_gas),
            tx_memory_bytes: l.tx_memory_bytes.unwrap_or(d.tx_memory_bytes),
            max_instances: l.max_instances.unwrap_or(d.max_instances),
            max_tx_event_bytes: l.max_tx_event_bytes.unwrap_or(d.max_tx_event_bytes),
        }
    }
}

fn address(text: &str) -> Result<Address, String> {
    Address::from_hex(text)
        .ok_or_else(|| format!("{text:?} is not an address (0x and 64 hex digits)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_digit_strings_or_small_numbers() {
        let parse = |json: &str| serde_json::from_str::<Amount>(json).map(|a| a.0);
        assert_eq!(parse(r#""1_000""#).unwrap(), 1000);
        assert_eq!(parse("42").unwrap(), 42);
        assert!(parse(&u128::MAX.to_string()).is_err(), "a number past 2^53");
        assert_eq!(parse(&format!("\"{}\"", u128::MAX)).unwrap(), u128::MAX);
        for bad in [
            r#""""#,
            r#""-1""#,
            r#""1.5""#,
            r#""0x10""#,
            r#""_1""#,
            "9007199254740993",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse(&format!("\"{}0\"", u128::MAX)).is_err());
        assert_eq!(serde_json::to_string(&Amount(7)).unwrap(), r#""7""#);
    }

    #[test]
    fn a_genesis_is_checked() {
        let good = Genesis::dev("ward-x");
        good.check().unwrap();
        assert_eq!(good.accounts().unwrap().len(), 20);
        let json = serde_json::to_vec(&good).unwrap();
        assert_eq!(Genesis::from_json(&json).unwrap(), good);
        let refused = |change: fn(&mut Genesis)| {
            let mut genesis = good.clone();
            change(&mut genesis);
            genesis.check().unwrap_err()
        };
        assert!(refused(|g| g.chain_id = "no spaces".into()).contains("chain id"));
        assert!(refused(|g| g.asset.name = "".into()).contains("asset"));
        assert!(refused(|g| g.asset.decimals = 31).contains("decimals"));
        assert!(refused(|g| g.fee_collector = Some("0x12".into())).contains("address"));
        assert!(
            refused(|g| {
                g.balances
                    .insert(format!("0x{}", "ab".repeat(32)), Amount(u128::MAX));
            })
            .contains("largest")
        );
        // The same address twice, spelled two ways.
        assert!(
            refused(|g| {
                g.balances
                    .insert(format!("0x{}", "AB".repeat(32)), Amount(1));
                g.balances
                    .insert(format!("0x{}", "ab".repeat(32)), Amount(1));
            })
            .contains("twice")
        );
        let unknown = br#"{"chain_id": "a", "asset": {"name": "A", "decimals": 0}, "min_gas_price": "0", "extra": 1}"#;
        assert!(Genesis::from_json(unknown).unwrap_err().contains("extra"));
    }
}
