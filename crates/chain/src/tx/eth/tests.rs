use alloy_consensus::{SignableTransaction, Signed, TxEip1559, TxEip2930, TxLegacy};
use alloy_primitives::{B256, Bytes, Signature, U256};
use proptest::prelude::*;

use super::*;
use crate::tx::{ChainRules, Sender, StoredTx, TxError};

const KEY: [u8; 32] = [0x46; 32];
const CHAIN: u64 = 31_337;

fn key_address(key: [u8; 32]) -> [u8; 20] {
    let signing = k256_key(key);
    super::address_of(signing.verifying_key())
}

fn k256_key(key: [u8; 32]) -> k256::ecdsa::SigningKey {
    k256::ecdsa::SigningKey::from_slice(&key).unwrap()
}

fn sign<T>(tx: T, key: [u8; 32]) -> Vec<u8>
where
    T: SignableTransaction<Signature>,
    TxEnvelope: From<Signed<T>>,
{
    let signature = secp256k1::sign_message(B256::from(key), tx.signature_hash()).unwrap();
    TxEnvelope::from(tx.into_signed(signature)).encoded_2718()
}

fn legacy(chain_id: Option<u64>) -> TxLegacy {
    TxLegacy {
        chain_id,
        nonce: 9,
        gas_price: 20_000_000_000,
        gas_limit: 21_000,
        to: TxKind::Call([0x35; 20].into()),
        value: U256::from(10u128.pow(18)),
        input: Bytes::new(),
    }
}

fn eip1559(to: TxKind, value: U256) -> TxEip1559 {
    TxEip1559 {
        chain_id: CHAIN,
        nonce: 3,
        gas_limit: 100_000,
        max_fee_per_gas: 3_000,
        max_priority_fee_per_gas: 2,
        to,
        value,
        access_list: Default::default(),
        input: Bytes::from(vec![0xa9, 0x05, 0x9c, 0xbb]),
    }
}

fn eip2930() -> TxEip2930 {
    TxEip2930 {
        chain_id: CHAIN,
        nonce: 0,
        gas_price: 1_000,
        gas_limit: 60_000,
        to: TxKind::Create,
        value: U256::ZERO,
        access_list: Default::default(),
        input: Bytes::from(vec![0x60, 0x80, 0x60, 0x40]),
    }
}

/// EIP-155's own example: its bytes, signed with key 0x46…46 for chain
/// 1, are read back with the sender the EIP names.
#[test]
fn the_eip_155_example_reads_with_its_published_sender() {
    let raw = "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83";
    let bytes = hex_bytes(raw);
    let tx = EthTx::verify(&bytes, 1).unwrap();
    assert_eq!(
        hex::encode(tx.from()),
        "9d8a62f656a8d1615c1294fd71e9cfb3e4855a4f"
    );
    assert_eq!(tx.from(), key_address(KEY));
    assert_eq!(tx.ty, EthTxType::Legacy);
    assert_eq!((tx.chain_id, tx.nonce, tx.gas_limit), (1, 9, 21_000));
    assert_eq!(tx.max_fee_per_gas, 20_000_000_000);
    assert_eq!(tx.max_priority_fee_per_gas, 20_000_000_000);
    assert_eq!(tx.value, 10u128.pow(18));
    assert_eq!(tx.to, Some([0x35; 20]));
    assert!(tx.input.is_empty());
    assert_eq!(tx.hash(), Hash32(keccak256(&bytes).0));
    // The same transaction signed here is the same bytes (RFC 6979).
    assert_eq!(sign(legacy(Some(1)), KEY), bytes);
}

#[test]
fn every_supported_type_reads_with_its_sender_hash_and_fields() {
    let to = TxKind::Call([7; 20].into());
    let cases = [
        (sign(legacy(Some(CHAIN)), KEY), EthTxType::Legacy),
        (sign(eip2930(), KEY), EthTxType::Eip2930),
        (sign(eip1559(to, U256::from(5)), KEY), EthTxType::Eip1559),
    ];
    for (bytes, ty) in cases {
        let tx = EthTx::verify(&bytes, CHAIN).unwrap();
        assert_eq!(tx.ty, ty);
        assert_eq!(tx.from(), key_address(KEY));
        assert_eq!(tx.sender(), Address::from_eth(key_address(KEY)));
        assert_eq!(tx.sender().eth(), Some(tx.from()));
        let decoded = TxEnvelope::decode_2718_exact(&bytes).unwrap();
        assert_eq!(tx.hash().0, decoded.tx_hash().0, "{ty:?}");
        assert_eq!(tx.envelope(), bytes.as_slice());
        assert_eq!(EthTx::from_stored(&tx.to_stored()).unwrap(), tx);
        assert_eq!(tx.to_stored()[0], ETH_TAG);
    }
    let tx = EthTx::decode(&sign(eip1559(to, U256::from(5)), KEY)).unwrap();
    assert_eq!(
        (tx.max_fee_per_gas, tx.max_priority_fee_per_gas),
        (3_000, 2)
    );
    assert_eq!((tx.to, tx.value, tx.nonce), (Some([7; 20]), 5, 3));
    assert_eq!(tx.input, vec![0xa9, 0x05, 0x9c, 0xbb]);
    let create = EthTx::decode(&sign(eip2930(), KEY)).unwrap();
    assert_eq!(create.to, None);
    assert_eq!(create.input, vec![0x60, 0x80, 0x60, 0x40]);
}

#[test]
fn another_chain_and_an_unprotected_legacy_are_refused() {
    let bytes = sign(eip1559(TxKind::Create, U256::ZERO), KEY);
    assert_eq!(
        EthTx::verify(&bytes, 1),
        Err(EthTxError::WrongChain {
            expected: 1,
            found: CHAIN
        })
    );
    let unprotected = sign(legacy(None), KEY);
    assert_eq!(EthTx::decode(&unprotected), Err(EthTxError::Unprotected));
}

/// The same signature with `s` replaced by `n - s` (and `v` flipped)
/// recovers the same key: EIP-2 makes the high one invalid, so a
/// transaction has one valid encoding and one hash.
#[test]
fn a_high_s_twin_of_a_valid_signature_is_refused() {
    let tx = eip1559(TxKind::Call([1; 20].into()), U256::from(1));
    let low = secp256k1::sign_message(B256::from(KEY), tx.signature_hash()).unwrap();
    let order = U256::from_be_slice(&hex_bytes(
        "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
    ));
    let high = Signature::new(low.r(), order - low.s(), !low.v());
    assert_eq!(
        secp256k1::recover_signer_unchecked(&high, tx.signature_hash())
            .unwrap()
            .into_array(),
        key_address(KEY),
        "the twin is a valid signature but for EIP-2"
    );
    let bytes = TxEnvelope::from(tx.into_signed(high)).encoded_2718();
    assert_eq!(EthTx::decode(&bytes), Err(EthTxError::BadSignature));
}

#[test]
fn blob_set_code_and_unknown_types_are_refused_by_their_byte() {
    for ty in [3u8, 4, 5, 0x7f, 0xbf] {
        let mut bytes = sign(eip1559(TxKind::Create, U256::ZERO), KEY);
        bytes[0] = ty;
        assert!(
            matches!(EthTx::decode(&bytes), Err(EthTxError::Unsupported { ty: t, .. }) if t == ty),
            "{ty}"
        );
    }
    let message = EthTx::decode(&[3, 0xc0]).unwrap_err().to_string();
    assert!(
        message.contains("transaction type 3 not supported"),
        "{message}"
    );
}

#[test]
fn cut_padded_empty_and_oversized_bytes_are_malformed() {
    for bytes in [
        sign(legacy(Some(CHAIN)), KEY),
        sign(eip2930(), KEY),
        sign(eip1559(TxKind::Create, U256::ZERO), KEY),
    ] {
        for cut in 0..bytes.len() {
            assert!(EthTx::decode(&bytes[..cut]).is_err(), "{cut}");
        }
        let mut long = bytes.clone();
        long.push(0);
        assert!(matches!(
            EthTx::decode(&long),
            Err(EthTxError::Malformed(_))
        ));
    }
    assert_eq!(
        EthTx::decode(&[]),
        Err(EthTxError::Malformed("no bytes".into()))
    );
    let mut big = eip1559(TxKind::Create, U256::ZERO);
    big.input = Bytes::from(vec![0; MAX_ETH_TX_BYTES]);
    assert!(matches!(
        EthTx::decode(&sign(big, KEY)),
        Err(EthTxError::Malformed(why)) if why.contains("at most")
    ));
    assert!(EthTx::from_stored(&sign(eip2930(), KEY)).is_err());
}

#[test]
fn a_value_above_the_native_assets_range_is_refused() {
    let tx = eip1559(
        TxKind::Call([1; 20].into()),
        U256::from(u128::MAX) + U256::from(1),
    );
    assert!(matches!(
        EthTx::decode(&sign(tx, KEY)),
        Err(EthTxError::ValueTooLarge(_))
    ));
    let most = eip1559(TxKind::Call([1; 20].into()), U256::from(u128::MAX));
    assert_eq!(EthTx::decode(&sign(most, KEY)).unwrap().value, u128::MAX);
}

/// The chain's one transaction model reads an Ethereum transaction as a
/// call of `to`'s Ward address, or a deploy of EVM creation code, at the
/// effective gas price of the chain's base fee; its stored bytes read
/// back by their first byte.
#[test]
fn an_ethereum_transaction_is_one_sender_kind_of_the_one_model() {
    let rules = |eth_chain_id, base_fee| ChainRules {
        eth_chain_id,
        base_fee,
        ..ChainRules::new("ward-eth")
    };
    let call = EthTx::verify(
        &sign(eip1559(TxKind::Call([7; 20].into()), U256::from(5)), KEY),
        CHAIN,
    )
    .unwrap();
    let verify = |rules: &ChainRules| {
        StoredTx::from_bytes(&call.to_stored()).and_then(|stored| stored.verify(rules))
    };
    let verified = verify(&rules(Some(CHAIN), 1_000)).unwrap();
    assert_eq!(verified.hash(), call.hash());
    assert_eq!(verified.sender(), Address::from_eth(key_address(KEY)));
    assert_eq!(verified.bytes(), call.to_stored().as_slice());
    assert_eq!(verified.origin(), Sender::Ethereum(key_address(KEY)));
    assert!(verified.is_sequenced());
    assert_eq!(
        (verified.nonce(), verified.gas_limit(), verified.value()),
        (3, 100_000, 5)
    );
    assert_eq!(
        verified.payload(),
        &Payload::Call {
            to: Address::from_eth([7; 20]),
            input: vec![0xa9, 0x05, 0x9c, 0xbb]
        }
    );
    // EIP-1559's effective price: the priority fee above the base fee,
    // capped by the fee cap (3 000 and 2 here).
    assert_eq!(verified.gas_price(), 1_002);
    assert_eq!(call.gas_price(2_999), 3_000);
    assert_eq!(call.gas_price(5_000), 3_000, "the cap, below the base fee");
    assert_eq!(call.gas_price(u128::MAX), 3_000);
    assert_eq!(verify(&rules(None, 0)), Err(TxError::NoEthereum));
    assert_eq!(
        verify(&rules(Some(1), 0)),
        Err(TxError::Ethereum(EthTxError::WrongChain {
            expected: 1,
            found: CHAIN
        }))
    );
    let stored = StoredTx::from_bytes(&call.to_stored()).unwrap();
    assert_eq!(stored.sender(), Sender::Ethereum(key_address(KEY)));
    assert_eq!(stored.sender().address(), call.sender());
    assert_eq!(stored.gas_and_value(), (100_000, 5));
    assert_eq!(stored.body(), None);

    // A legacy transaction pays its gas price whatever the base fee.
    let legacy = EthTx::verify(&sign(legacy(Some(CHAIN)), KEY), CHAIN).unwrap();
    assert_eq!(legacy.gas_price(0), 20_000_000_000);
    assert_eq!(legacy.gas_price(7), 20_000_000_000);

    let create = EthTx::verify(&sign(eip2930(), KEY), CHAIN).unwrap();
    let Payload::Deploy(deploy) = create.payload() else {
        panic!("not a deploy: {:?}", create.payload());
    };
    assert_eq!(deploy.code, vec![0x60, 0x80, 0x60, 0x40]);
    assert!(deploy.input.is_empty() && deploy.salt.is_empty() && deploy.admin.is_none());
    assert_eq!(deploy.kind.as_str(), EVM_RUNTIME);
}

/// Creation data with the Wasm prefix deploys the module, the bytes after
/// it the constructor's input; any other data is EVM creation code; data
/// with the prefix and a length that does not fit is refused by
/// `decode`, with a typed error.
#[test]
fn wasm_creation_data_deploys_wasm_and_bad_lengths_are_refused() {
    let wasm = b"\0asm\x01\0\0\0".to_vec();
    let mut data = wasm_creation_code(&wasm);
    assert_eq!(data[..7], [0xef, 0x57, 0x00, 0, 0, 0, 8]);
    data.extend_from_slice(&[7; 32]);
    let Payload::Deploy(deploy) = creation_payload(&data).unwrap() else {
        panic!("a deploy");
    };
    assert_eq!((deploy.code, deploy.input), (wasm.clone(), vec![7; 32]));
    assert_eq!(deploy.kind, CodeKind::Ward);
    let Payload::Deploy(evm) = creation_payload(&[0x60, 0x80]).unwrap() else {
        panic!("a deploy");
    };
    assert_eq!(evm.kind.as_str(), EVM_RUNTIME);

    let create = |input: Vec<u8>| {
        let mut tx = eip1559(TxKind::Create, U256::ZERO);
        tx.input = Bytes::from(input);
        EthTx::decode(&sign(tx, KEY))
    };
    let tx = create(data.clone()).unwrap();
    assert_eq!(tx.payload(), creation_payload(&data).unwrap());
    for bad in [
        WASM_CREATION_PREFIX.to_vec(),
        [&WASM_CREATION_PREFIX[..], &[0, 0, 0]].concat(),
        [&WASM_CREATION_PREFIX[..], &[0, 0, 0, 9], &wasm].concat(),
        [&WASM_CREATION_PREFIX[..], &[0xff; 4]].concat(),
    ] {
        assert!(
            matches!(create(bad.clone()), Err(EthTxError::BadWasmCreation(_))),
            "{bad:02x?}"
        );
    }
    // A call's input is calldata, whatever its first bytes.
    let mut call = eip1559(TxKind::Call([0x35; 20].into()), U256::ZERO);
    call.input = Bytes::from(WASM_CREATION_PREFIX.to_vec());
    assert!(EthTx::decode(&sign(call, KEY)).is_ok());
}

/// `CREATE`'s address as Ethereum computes it: the example every
/// explanation of it uses (sender 0x6ac7…dbf0, nonces 0 and 1); and
/// `CREATE2`'s, EIP-1014's.
#[test]
fn create_addresses_are_ethereums() {
    let sender: [u8; 20] = hex_bytes("6ac7ea33f8831ea9dcc53393aaa88b25a785dbf0")
        .try_into()
        .unwrap();
    assert_eq!(
        hex::encode(create_address(sender, 0)),
        "cd234a471b72ba2f1ccf0a70fcaba648a5eecd8d"
    );
    assert_eq!(
        hex::encode(create_address(sender, 1)),
        "343c43a37d37dff08ae8c4a11544c718abb4fcf8"
    );
    // EIP-1014's first and fifth examples.
    assert_eq!(
        hex::encode(create2_address([0; 20], [0; 32], &[0])),
        "4d1a2e2bb4f88f0250f26ffff098b0b30b26bf38"
    );
    let deadbeef: [u8; 20] = hex_bytes("00000000000000000000000000000000deadbeef")
        .try_into()
        .unwrap();
    let mut salt = [0u8; 32];
    salt[28..].copy_from_slice(&[0xca, 0xfe, 0xba, 0xbe]);
    assert_eq!(
        hex::encode(create2_address(deadbeef, salt, &[0xde, 0xad, 0xbe, 0xef])),
        "60f3f640a8508fc6a86d45df051962668e1e8ac7"
    );
}

#[test]
fn ward_addresses_with_a_32_byte_head_have_no_ethereum_form() {
    assert_eq!(Address([1; 32]).eth(), None);
    assert_eq!(Address::from_eth([9; 20]).eth(), Some([9; 20]));
    assert_eq!(Address([1; 32]).eth_form().eth(), Some([1; 20]));
}

proptest! {
    #[test]
    fn any_bytes_read_to_a_transaction_or_an_error(
        ty in prop::sample::select(vec![0x01u8, 0x02, 0x03, 0xc0, 0xf8, 0xf9]),
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut bytes = vec![ty];
        bytes.extend(body);
        let _ = EthTx::decode(&bytes);
        let _ = EthTx::from_stored(&bytes);
    }

    #[test]
    fn a_changed_byte_never_keeps_the_sender(index in 0usize..200, bit in 0u8..8) {
        let bytes = sign(eip1559(TxKind::Call([2; 20].into()), U256::from(9)), KEY);
        let mut changed = bytes.clone();
        let index = index % bytes.len();
        changed[index] ^= 1 << bit;
        if let Ok(tx) = EthTx::decode(&changed) {
            prop_assert_ne!(tx.from(), key_address(KEY));
        }
    }
}

fn hex_bytes(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}
