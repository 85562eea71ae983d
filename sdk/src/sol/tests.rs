extern crate std;

use alloc::{boxed::Box, string::String, vec, vec::Vec};

use alloy_dyn_abi::{DynSolType, DynSolValue};
use alloy_primitives::{Address as EthAddress, FixedBytes, I256, U256 as AlloyU256};
use proptest::prelude::*;

use super::*;

fn hex(text: &str) -> Vec<u8> {
    let clean: String = text.split_whitespace().collect();
    (0..clean.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&clean[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn selectors_and_topics_are_the_known_ones() {
    const TRANSFER: [u8; 4] = selector("transfer", &[name::<Address>(), name::<U256>()]);
    assert_eq!(TRANSFER, [0xa9, 0x05, 0x9c, 0xbb]);
    assert_eq!(ERROR_SELECTOR, [0x08, 0xc3, 0x79, 0xa0]);
    const TOPIC: [u8; 32] = event_topic(
        "Transfer",
        &[name::<Address>(), name::<Address>(), name::<U256>()],
    );
    assert_eq!(
        TOPIC.to_vec(),
        hex("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
    );
    // Arrays and tuples in a signature (the ABI specification's examples).
    assert_eq!(
        selector(
            "sam",
            &[name::<Bytes>(), name::<bool>(), name::<Vec<U256>>()]
        ),
        [0xa5, 0x64, 0x3b, 0xf2]
    );
    assert_eq!(
        selector("f", &[name::<(u32, Vec<String>)>()]),
        selector_of_text("f((uint32,string[]))")
    );
}

fn selector_of_text(signature: &str) -> [u8; 4] {
    let hash = Keccak256::new().update(signature.as_bytes()).finalize();
    [hash[0], hash[1], hash[2], hash[3]]
}

/// The ABI specification's example: `sam("dave", true, [1, 2, 3])`.
#[test]
fn the_specifications_dynamic_example_encodes_byte_for_byte() {
    let sel = selector(
        "sam",
        &[name::<Bytes>(), name::<bool>(), name::<Vec<U256>>()],
    );
    let args = (
        Bytes(b"dave".to_vec()),
        true,
        vec![U256::from(1u64), U256::from(2u64), U256::from(3u64)],
    );
    let expected = hex("a5643bf2
         0000000000000000000000000000000000000000000000000000000000000060
         0000000000000000000000000000000000000000000000000000000000000001
         00000000000000000000000000000000000000000000000000000000000000a0
         0000000000000000000000000000000000000000000000000000000000000004
         6461766500000000000000000000000000000000000000000000000000000000
         0000000000000000000000000000000000000000000000000000000000000003
         0000000000000000000000000000000000000000000000000000000000000001
         0000000000000000000000000000000000000000000000000000000000000002
         0000000000000000000000000000000000000000000000000000000000000003");
    assert_eq!(encode_call(sel, &args), expected);
    assert_eq!(
        decode_params::<(Bytes, bool, Vec<U256>)>(&expected[4..]).unwrap(),
        args
    );
}

#[test]
fn error_string_is_what_solidity_reverts_with() {
    let data = error_message("insufficient balance");
    assert_eq!(data[..4], ERROR_SELECTOR);
    assert_eq!(
        decode_error_message(&data).as_deref(),
        Some("insufficient balance")
    );
    let alloy = DynSolValue::Tuple(vec![DynSolValue::String("insufficient balance".into())]);
    assert_eq!(data[4..], alloy.abi_encode_params()[..]);
    assert_eq!(decode_error_message(&data[..3]), None);
    assert_eq!(decode_error_message(&[0; 36]), None);
}

#[test]
fn strict_words_are_refused() {
    let mut word = [0u8; 32];
    word[0] = 1;
    assert_eq!(u128::decode_content(&word), Err(SolError::BadWord));
    assert_eq!(Address::decode_content(&word), Err(SolError::BadWord));
    word[0] = 0;
    word[31] = 2;
    assert_eq!(bool::decode_content(&word), Err(SolError::BadWord));
    // -1 as int8 is all ones; a positive int8 with high bits set is not.
    assert_eq!(i8::decode_content(&[0xff; 32]), Ok(-1));
    let mut bad = [0u8; 32];
    bad[31] = 0xff;
    assert_eq!(i8::decode_content(&bad), Err(SolError::BadWord));
    // Too short, an offset past the end, a length past the end, a count
    // that no data could hold.
    assert_eq!(u8::decode_content(&[0; 31]), Err(SolError::OutOfBounds));
    let mut offset = [0u8; 32];
    offset[31] = 64;
    assert_eq!(
        decode_params::<(Bytes,)>(&offset),
        Err(SolError::OutOfBounds)
    );
    let mut huge = vec![0u8; 64];
    huge[31] = 32;
    huge[32..64].fill(0xff);
    assert_eq!(
        decode_params::<(Vec<u8>,)>(&huge),
        Err(SolError::OutOfBounds)
    );
    huge[32..56].fill(0);
    assert_eq!(
        decode_params::<(Vec<u8>,)>(&huge),
        Err(SolError::OutOfBounds)
    );
    let mut utf8 = vec![0u8; 96];
    utf8[31] = 32;
    utf8[63] = 1;
    utf8[64] = 0xff;
    assert_eq!(
        decode_params::<(String,)>(&utf8),
        Err(SolError::InvalidUtf8)
    );
}

#[test]
fn u256_arithmetic_is_checked() {
    let max = U256::MAX;
    assert_eq!(max.checked_add(U256::ONE), None);
    assert_eq!(U256::ZERO.checked_sub(U256::ONE), None);
    assert_eq!(max.checked_sub(max), Some(U256::ZERO));
    let big = U256::from(u128::MAX);
    let sum = big.checked_add(U256::ONE).unwrap();
    assert_eq!(sum.to_u128(), None);
    assert_eq!(
        sum.checked_sub(U256::ONE).unwrap().to_u128(),
        Some(u128::MAX)
    );
    assert_eq!(
        big.checked_mul(big).unwrap().checked_mul(U256::from(2u64)),
        None
    );
    assert_eq!(std::format!("{}", U256::ZERO), "0");
    assert_eq!(
        std::format!("{max}"),
        "115792089237316195423570985008687907853269984665640564039457584007913129639935"
    );
    assert!(U256::from(5u64) < sum);
}

/// A value of the types above, with alloy's view of it.
#[derive(Clone, Debug)]
enum Value {
    Bool(bool),
    U8(u8),
    U128(u128),
    I64(i64),
    U256([u8; 32]),
    Address([u8; 20]),
    Bytes32([u8; 32]),
    Bytes(Vec<u8>),
    Str(String),
    Words(Vec<[u8; 32]>),
    Strings(Vec<String>),
    Pair(u32, Vec<u8>),
}

impl Value {
    fn boxed(&self) -> Box<dyn SolEncode> {
        match self {
            Value::Bool(v) => Box::new(*v),
            Value::U8(v) => Box::new(*v),
            Value::U128(v) => Box::new(*v),
            Value::I64(v) => Box::new(*v),
            Value::U256(v) => Box::new(U256::from_be_bytes(*v)),
            Value::Address(v) => Box::new(Address::from_eth(*v)),
            Value::Bytes32(v) => Box::new(*v),
            Value::Bytes(v) => Box::new(Bytes(v.clone())),
            Value::Str(v) => Box::new(v.clone()),
            Value::Words(v) => Box::new(
                v.iter()
                    .map(|w| U256::from_be_bytes(*w))
                    .collect::<Vec<_>>(),
            ),
            Value::Strings(v) => Box::new(v.clone()),
            Value::Pair(a, b) => Box::new((*a, Bytes(b.clone()))),
        }
    }

    fn alloy(&self) -> DynSolValue {
        match self {
            Value::Bool(v) => DynSolValue::Bool(*v),
            Value::U8(v) => DynSolValue::Uint(AlloyU256::from(*v), 8),
            Value::U128(v) => DynSolValue::Uint(AlloyU256::from(*v), 128),
            Value::I64(v) => DynSolValue::Int(I256::try_from(*v).unwrap(), 64),
            Value::U256(v) => DynSolValue::Uint(AlloyU256::from_be_bytes(*v), 256),
            Value::Address(v) => DynSolValue::Address(EthAddress::from(*v)),
            Value::Bytes32(v) => DynSolValue::FixedBytes(FixedBytes::from(*v), 32),
            Value::Bytes(v) => DynSolValue::Bytes(v.clone()),
            Value::Str(v) => DynSolValue::String(v.clone()),
            Value::Words(v) => DynSolValue::Array(
                v.iter()
                    .map(|w| DynSolValue::Uint(AlloyU256::from_be_bytes(*w), 256))
                    .collect(),
            ),
            Value::Strings(v) => {
                DynSolValue::Array(v.iter().map(|s| DynSolValue::String(s.clone())).collect())
            }
            Value::Pair(a, b) => DynSolValue::Tuple(vec![
                DynSolValue::Uint(AlloyU256::from(*a), 32),
                DynSolValue::Bytes(b.clone()),
            ]),
        }
    }

    fn alloy_type(&self) -> DynSolType {
        match self {
            Value::Bool(_) => DynSolType::Bool,
            Value::U8(_) => DynSolType::Uint(8),
            Value::U128(_) => DynSolType::Uint(128),
            Value::I64(_) => DynSolType::Int(64),
            Value::U256(_) => DynSolType::Uint(256),
            Value::Address(_) => DynSolType::Address,
            Value::Bytes32(_) => DynSolType::FixedBytes(32),
            Value::Bytes(_) => DynSolType::Bytes,
            Value::Str(_) => DynSolType::String,
            Value::Words(_) => DynSolType::Array(Box::new(DynSolType::Uint(256))),
            Value::Strings(_) => DynSolType::Array(Box::new(DynSolType::String)),
            Value::Pair(..) => DynSolType::Tuple(vec![DynSolType::Uint(32), DynSolType::Bytes]),
        }
    }

    /// Decodes `data` as this value's type with Ward's decoder and
    /// encodes it again.
    fn ward_round_trip(&self, data: &[u8]) -> Result<Vec<u8>, SolError> {
        Ok(match self {
            Value::Bool(_) => encode_params(&decode_params::<(bool,)>(data)?),
            Value::U8(_) => encode_params(&decode_params::<(u8,)>(data)?),
            Value::U128(_) => encode_params(&decode_params::<(u128,)>(data)?),
            Value::I64(_) => encode_params(&decode_params::<(i64,)>(data)?),
            Value::U256(_) => encode_params(&decode_params::<(U256,)>(data)?),
            Value::Address(_) => encode_params(&decode_params::<(Address,)>(data)?),
            Value::Bytes32(_) => encode_params(&decode_params::<([u8; 32],)>(data)?),
            Value::Bytes(_) => encode_params(&decode_params::<(Bytes,)>(data)?),
            Value::Str(_) => encode_params(&decode_params::<(String,)>(data)?),
            Value::Words(_) => encode_params(&decode_params::<(Vec<U256>,)>(data)?),
            Value::Strings(_) => encode_params(&decode_params::<(Vec<String>,)>(data)?),
            Value::Pair(..) => encode_params(&decode_params::<((u32, Bytes),)>(data)?),
        })
    }
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<u8>().prop_map(Value::U8),
        any::<u128>().prop_map(Value::U128),
        any::<i64>().prop_map(Value::I64),
        any::<[u8; 32]>().prop_map(Value::U256),
        any::<[u8; 20]>().prop_map(Value::Address),
        any::<[u8; 32]>().prop_map(Value::Bytes32),
        proptest::collection::vec(any::<u8>(), 0..80).prop_map(Value::Bytes),
        ".{0,40}".prop_map(Value::Str),
        proptest::collection::vec(any::<[u8; 32]>(), 0..5).prop_map(Value::Words),
        proptest::collection::vec(".{0,20}", 0..4).prop_map(Value::Strings),
        (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(a, b)| Value::Pair(a, b)),
    ]
}

proptest! {
    /// Ward's encoding is alloy's, byte for byte, for every parameter
    /// list of up to four values; each side decodes what the other wrote.
    #[test]
    fn ward_and_alloy_agree(values in proptest::collection::vec(value(), 1..5)) {
        let boxes: Vec<Box<dyn SolEncode>> = values.iter().map(Value::boxed).collect();
        let refs: Vec<&dyn SolEncode> = boxes.iter().map(AsRef::as_ref).collect();
        let mut ward = Vec::new();
        encode_tuple(&refs, &mut ward);
        let alloy = DynSolValue::Tuple(values.iter().map(Value::alloy).collect());
        let expected = alloy.abi_encode_params();
        prop_assert_eq!(&ward, &expected);
        let whole = DynSolType::Tuple(values.iter().map(Value::alloy_type).collect());
        prop_assert_eq!(whole.abi_decode_params(&ward).unwrap(), alloy);
        for value in &values {
            let alone = DynSolValue::Tuple(vec![value.alloy()]).abi_encode_params();
            prop_assert_eq!(value.ward_round_trip(&alone).unwrap(), alone);
        }
    }

    /// Bytes that are not an encoding give an error, never a panic.
    #[test]
    fn any_bytes_decode_or_fail(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_params::<(Bytes, Vec<String>, (u32, Vec<U256>))>(&data);
        let _ = decode_params::<(Address, bool, i128)>(&data);
        let _ = decode_error_message(&data);
    }
}

/// A contract of the Solidity ABI, compiled for the host: its interface,
/// events and errors (its `main` is the guest's).
#[allow(
    dead_code,
    unreachable_pub,
    reason = "a contract compiled for the host: only the guest calls its functions"
)]
mod erc20 {
    use alloc::{string::String, vec::Vec};

    use crate::{
        Address,
        sol::{U256, revert},
    };

    crate::contract! {
        abi: solidity;

        init(supply: U256) {
            let _ = supply;
        }

        /// A transfer.
        pub event Transfer { #[indexed] from: Address, #[indexed] to: Address, value: U256 }

        /// A note, its text a topic.
        pub event Noted { #[indexed] text: String, by: Address }

        /// Not enough to move.
        pub error InsufficientBalance { have: U256, want: U256 }

        #[view]
        pub fn balance_of(owner: Address) -> U256 {
            let _ = owner;
            U256::ZERO
        }

        pub fn transfer_from(from: Address, to: Address, value: U256) -> Result<bool, InsufficientBalance> {
            let _ = (from, to);
            Err(InsufficientBalance { have: U256::ZERO, want: value })
        }

        #[payable]
        pub fn deposit() {}

        #[pure]
        pub fn name() -> String {
            String::from("Rust Token")
        }

        pub fn _internal_check(flags: Vec<bool>) {
            if flags.is_empty() {
                revert("no flags");
            }
        }
    }
}

#[test]
fn a_contracts_abi_json_is_what_alloy_reads() {
    use alloy_json_abi::JsonAbi;
    const LEN: usize = abi::json_len(&erc20::__WARD_SOL_ABI);
    const JSON: [u8; LEN] = abi::json(&erc20::__WARD_SOL_ABI);
    let text = core::str::from_utf8(&JSON).unwrap();
    let parsed: JsonAbi = serde_json::from_str(text).unwrap();
    let constructor = parsed.constructor.as_ref().unwrap();
    assert_eq!(constructor.inputs[0].ty, "uint256");
    // Each function under its camelCase name, with the selector the
    // macro dispatches on.
    for (rust, solidity, types) in [
        ("balance_of", "balanceOf", &[name::<Address>()][..]),
        (
            "transfer_from",
            "transferFrom",
            &[name::<Address>(), name::<Address>(), name::<U256>()][..],
        ),
        ("deposit", "deposit", &[][..]),
        ("name", "name", &[][..]),
        (
            "_internal_check",
            "_internalCheck",
            &[name::<Vec<bool>>()][..],
        ),
    ] {
        let f = &parsed
            .function(solidity)
            .unwrap_or_else(|| panic!("{solidity}"))[0];
        assert_eq!(f.selector().0, function_selector(rust, types), "{solidity}");
    }
    let mutability = |name: &str| parsed.function(name).unwrap()[0].state_mutability;
    use alloy_json_abi::StateMutability as M;
    assert_eq!(mutability("balanceOf"), M::View);
    assert_eq!(mutability("transferFrom"), M::NonPayable);
    assert_eq!(mutability("deposit"), M::Payable);
    assert_eq!(mutability("name"), M::Pure);
    let outputs = |name: &str| parsed.function(name).unwrap()[0].outputs.len();
    assert_eq!(
        (
            outputs("balanceOf"),
            outputs("transferFrom"),
            outputs("deposit")
        ),
        (1, 1, 0)
    );
    let transfer = &parsed.event("Transfer").unwrap()[0];
    assert_eq!(transfer.selector().0, erc20::Transfer::TOPIC);
    assert_eq!(
        transfer
            .inputs
            .iter()
            .map(|i| i.indexed)
            .collect::<Vec<_>>(),
        [true, true, false]
    );
    let error = &parsed.error("InsufficientBalance").unwrap()[0];
    assert_eq!(error.selector().0, erc20::InsufficientBalance::SELECTOR);
}

#[test]
fn events_are_logs_and_errors_are_revert_data_as_solidity_writes_them() {
    use crate::sol::{SolEvent, SolRevert};
    let (from, to) = (Address::from_eth([1; 20]), Address::from_eth([2; 20]));
    let event = erc20::Transfer {
        from,
        to,
        value: U256::from(500u64),
    };
    let (topics, data) = event.log();
    let mut expected = erc20::Transfer::TOPIC.to_vec();
    expected.extend(from.0);
    expected.extend(to.0);
    assert_eq!(topics, expected);
    assert_eq!(
        data,
        DynSolValue::Tuple(vec![DynSolValue::Uint(AlloyU256::from(500), 256)]).abi_encode_params()
    );
    let error = erc20::InsufficientBalance {
        have: U256::ONE,
        want: U256::from(2u64),
    };
    let mut expected = erc20::InsufficientBalance::SELECTOR.to_vec();
    expected.extend(
        DynSolValue::Tuple(vec![
            DynSolValue::Uint(AlloyU256::from(1), 256),
            DynSolValue::Uint(AlloyU256::from(2), 256),
        ])
        .abi_encode_params(),
    );
    assert_eq!(error.revert_data(), expected);
    assert_eq!(crate::Revert::new("no").revert_data(), error_message("no"));
}

#[test]
fn solidity_names_are_camel_case() {
    let name_of = |rust: &str| {
        let (bytes, len) = solidity_name(rust);
        String::from_utf8(bytes[..len].to_vec()).unwrap()
    };
    assert_eq!(name_of("balance_of"), "balanceOf");
    assert_eq!(name_of("total_supply"), "totalSupply");
    assert_eq!(name_of("transfer"), "transfer");
    assert_eq!(name_of("_mint"), "_mint");
    assert_eq!(name_of("__a_b"), "__aB");
    assert_eq!(name_of("set_value_2"), "setValue2");
}

#[test]
fn panic_is_solidity_s() {
    assert_eq!(PANIC_SELECTOR, [0x4e, 0x48, 0x7b, 0x71]);
}
