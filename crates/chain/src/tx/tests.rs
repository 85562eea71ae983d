use proptest::prelude::*;

use ward_primitives::CodeKind;

use super::*;

/// A fixed signing key per index (the published dev keys live outside
/// this crate, in `ward-devkeys`).
fn dev_key(index: u8) -> SigningKey {
    SigningKey::from_bytes(&[index + 1; 32])
}

/// Bytes as the one way in reads them, for `chain`.
fn verify_bytes(bytes: &[u8], chain: &str) -> Result<VerifiedTx, TxError> {
    VerifiedTx::from_bytes(bytes, &ChainRules::new(chain))
}

fn call(nonce: u64) -> TxBody {
    TxBody {
        gas_price: 0,
        value: 0,
        chain_id: "ward-dev".into(),
        public_key: dev_key(1).verifying_key().to_bytes(),
        nonce,
        gas_limit: 500_000,
        payload: Payload::Call {
            to: Address([9; 32]),
            input: b"transfer".to_vec(),
        },
    }
}

fn deploy_as(kind: CodeKind) -> TxBody {
    TxBody {
        payload: Payload::Deploy(
            Deploy::new(b"\0asm\x01\0\0\0".to_vec(), vec![1, 2])
                .with_salt(b"s".to_vec())
                .with_kind(kind),
        ),
        ..call(3)
    }
}

fn deploy() -> TxBody {
    deploy_as(CodeKind::Ward)
}

#[test]
fn both_payloads_round_trip_and_verify() {
    let mut upgradable = deploy();
    if let Payload::Deploy(Deploy { admin, .. }) = &mut upgradable.payload {
        *admin = Some(Address([5; 32]));
    }
    let admin = |action| TxBody {
        payload: Payload::Admin {
            contract: Address([6; 32]),
            action,
        },
        ..call(3)
    };
    let upgrade = admin(AdminAction::Upgrade {
        code: b"\0asm".to_vec(),
        input: vec![1, 2],
    });
    let handed = admin(AdminAction::SetAdmin(Some(Address([7; 32]))));
    let dropped = admin(AdminAction::SetAdmin(None));
    for body in [
        call(0),
        deploy(),
        deploy_as(CodeKind::Wasi),
        upgradable,
        upgrade,
        handed,
        dropped,
    ] {
        let tx = body.clone().sign(&dev_key(1));
        let bytes = tx.to_bytes();
        let back = SignedTx::from_bytes(&bytes).unwrap();
        assert_eq!(back, tx);
        let verified = back.verify("ward-dev").unwrap();
        assert_eq!(verified.hash(), tx.hash());
        assert_eq!(verified.bytes(), bytes.as_slice());
        assert_eq!(verified.sender(), body.sender());
        // Its length is known without encoding, whatever its tag.
        let mut payload = Vec::new();
        body.payload.encode_to(&mut payload);
        assert_eq!(payload.len() as u64, body.payload.encoded_len());
        assert_eq!(
            Payload::decode_from(&mut payload.as_slice()).unwrap(),
            body.payload
        );
    }
}

#[test]
fn the_encoding_is_as_documented() {
    // docs/transactions.md walks through this call byte by byte.
    let body = TxBody {
        gas_price: 1_000,
        value: 250,
        ..call(7)
    };
    let bytes = body.to_bytes();
    assert_eq!(bytes[0], TX_VERSION);
    assert_eq!(TX_VERSION, 2);
    assert_eq!(&bytes[1..5], &8u32.to_le_bytes());
    assert_eq!(&bytes[5..13], b"ward-dev");
    assert_eq!(&bytes[13..45], &dev_key(1).verifying_key().to_bytes());
    assert_eq!(&bytes[45..53], &7u64.to_le_bytes());
    assert_eq!(&bytes[53..61], &500_000u64.to_le_bytes());
    assert_eq!(&bytes[61..77], &1_000u128.to_le_bytes());
    assert_eq!(&bytes[77..93], &250u128.to_le_bytes());
    assert_eq!(bytes[93], 1);
    assert_eq!(&bytes[94..126], &[9; 32]);
    assert_eq!(&bytes[126..130], &8u32.to_le_bytes());
    assert_eq!(&bytes[130..], b"transfer");
}

#[test]
fn every_refusal_has_its_reason() {
    let tx = call(0).sign(&dev_key(1));
    assert!(matches!(
        tx.verify("other"),
        Err(TxError::WrongChain { .. })
    ));
    // Signed by another key than the one it names.
    let forged = call(0).sign(&dev_key(2));
    assert_eq!(forged.verify("ward-dev"), Err(TxError::BadSignature));
    // A changed body no longer matches its signature.
    let mut changed = tx.clone();
    changed.body.nonce = 1;
    assert_eq!(changed.verify("ward-dev"), Err(TxError::BadSignature));
    // A key that is not a point on the curve.
    let mut bad_key = tx.clone();
    bad_key.body.public_key = [0xff; 32];
    bad_key.body.public_key[31] = 0x7f;
    assert!(matches!(
        bad_key.verify("ward-dev"),
        Err(TxError::InvalidKey | TxError::BadSignature)
    ));
    // Another version.
    let mut bytes = tx.to_bytes();
    for version in [1, 3] {
        bytes[0] = version;
        assert_eq!(SignedTx::from_bytes(&bytes), Err(TxError::Version(version)));
    }
    // Trailing bytes and every truncation.
    let mut longer = tx.to_bytes();
    longer.push(0);
    assert!(matches!(
        SignedTx::from_bytes(&longer),
        Err(TxError::Malformed(_))
    ));
    let bytes = tx.to_bytes();
    for cut in 0..bytes.len() {
        assert!(SignedTx::from_bytes(&bytes[..cut]).is_err(), "cut {cut}");
    }
    // Chain ids: syntax.
    for bad in ["", "a b", "é", &"x".repeat(65)] {
        let mut body = call(0);
        body.chain_id = bad.to_owned();
        let bytes = body.sign(&dev_key(1)).to_bytes();
        assert!(
            matches!(
                SignedTx::from_bytes(&bytes),
                Err(TxError::InvalidChainId(_))
            ),
            "{bad:?}"
        );
        assert!(check_chain_id(bad).is_err());
    }
    check_chain_id("ward-dev.test_1").unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any one changed byte of a signed transaction is refused: by the
    /// decoder, or by the signature.
    #[test]
    fn a_changed_byte_never_verifies(index in any::<prop::sample::Index>(), flip in 1u8..) {
        let tx = deploy().sign(&dev_key(1));
        let mut bytes = tx.to_bytes();
        let at = index.index(bytes.len());
        bytes[at] ^= flip;
        prop_assert!(verify_bytes(&bytes, "ward-dev").is_err());
    }

    /// Decoding arbitrary bytes never panics.
    #[test]
    fn arbitrary_bytes_decode_or_fail(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = verify_bytes(&bytes, "ward-dev");
    }
}

#[test]
fn a_wasi_deploy_is_payload_two_with_its_kind_last() {
    let ward = deploy().to_bytes();
    let wasi = deploy_as(CodeKind::Wasi).to_bytes();
    // Payload 0 and its fields, unchanged, for a Ward deploy; payload 2
    // and the kind's tag after the salt for another kind.
    assert_eq!(wasi.len(), ward.len() + 1);
    assert_eq!(*wasi.last().unwrap(), CodeKind::Wasi.tag());
    let at = ward.iter().zip(&wasi).position(|(a, b)| a != b).unwrap();
    assert_eq!((ward[at], wasi[at]), (0, 2));
    for bad in [0u8, 2, 255] {
        let mut wrong = wasi.clone();
        *wrong.last_mut().unwrap() = bad;
        let mut signed = wrong;
        signed.extend([0u8; 64]);
        assert!(SignedTx::from_bytes(&signed).is_err(), "kind tag {bad}");
    }
}

#[test]
fn an_impersonated_transaction_round_trips_and_no_signature_check_takes_it() {
    let sender = Address([0x77; 32]);
    let body = TxBody {
        public_key: [0; 32],
        gas_price: 3,
        value: 11,
        ..call(4)
    };
    let tx = body.clone().impersonated(sender);
    assert_eq!(tx.origin(), Sender::Impersonated(sender));
    assert_eq!(tx.sender(), sender);
    assert_eq!(
        (tx.nonce(), tx.gas_limit(), tx.gas_price(), tx.value()),
        (4, body.gas_limit, 3, 11)
    );
    assert_eq!(tx.payload(), &body.payload);
    assert!(tx.is_sequenced());
    assert_eq!(tx.bytes()[0], IMPERSONATED_TAG);
    let stored = StoredTx::from_bytes(tx.bytes()).unwrap();
    assert_eq!(
        stored,
        StoredTx::Impersonated(sender, body.clone(), GasUnit::Ward)
    );
    // Only rules that vouch take it back, as it was.
    let rules = ChainRules::new("ward-dev");
    assert_eq!(stored.clone().verify(&rules), Err(TxError::Unsigned));
    let read = stored.verify(&rules.vouching()).unwrap();
    assert_eq!(read, tx);
    // Another sender, another transaction.
    assert_ne!(
        body.clone().impersonated(Address([0x78; 32])).hash(),
        tx.hash()
    );
    // Neither a signed transaction's reader nor a truncated or padded copy.
    assert_eq!(verify_bytes(tx.bytes(), "ward-dev"), Err(TxError::Unsigned));
    assert!(SignedTx::from_bytes(tx.bytes()).is_err());
    for cut in 0..tx.bytes().len() {
        assert!(StoredTx::from_bytes(&tx.bytes()[..cut]).is_err(), "{cut}");
    }
    let mut long = tx.bytes().to_vec();
    long.push(0);
    assert!(StoredTx::from_bytes(&long).is_err());
    // A signed transaction is not an impersonated one.
    let signed = call(1).sign(&dev_key(1));
    assert!(impersonated_from_bytes(&signed.to_bytes()).is_err());
    assert_eq!(
        signed.verify("ward-dev").unwrap().origin(),
        Sender::Signed(signed.body.public_key)
    );
}

/// An embedder's unsigned transaction runs only where the rules vouch
/// for it, with no nonce and no price, and moves no value when it
/// administers a contract.
#[test]
fn an_unsigned_transaction_runs_only_vouched_for() {
    let sender = Address([0x44; 32]);
    let unsigned = Unsigned {
        sender,
        gas_limit: 90_000,
        value: 5,
        payload: Payload::Call {
            to: Address([9; 32]),
            input: b"go".to_vec(),
        },
    };
    let stored = StoredTx::from_bytes(&unsigned.to_bytes()).unwrap();
    assert_eq!(
        stored.clone().verify(&ChainRules::new("ward-dev")),
        Err(TxError::Unsigned)
    );
    let tx = stored
        .verify(&ChainRules::new("ward-dev").vouching())
        .unwrap();
    assert_eq!(tx, unsigned.clone().vouched());
    assert_eq!(tx.origin(), Sender::Unsigned(sender));
    assert!(!tx.is_sequenced());
    assert_eq!((tx.gas_limit(), tx.gas_price(), tx.value()), (90_000, 0, 5));
    assert_eq!(tx.input(), b"go");
    assert_eq!(tx.hash(), unsigned.hash());
    let admin = Unsigned {
        payload: Payload::Admin {
            contract: Address([6; 32]),
            action: AdminAction::SetAdmin(None),
        },
        ..unsigned
    };
    assert_eq!(admin.vouched().value(), 0);
}

/// Every sender kind is read by its first byte, through one decoder, and
/// carries its payload with the one tag table: the payload's bytes end
/// each encoding, identical whoever sends it.
#[test]
fn a_stored_transaction_is_read_by_its_first_byte_alone() {
    let sender = Address([0x55; 32]);
    for body in [call(1), deploy(), deploy_as(CodeKind::Wasi)] {
        let mut payload = Vec::new();
        body.payload.encode_to(&mut payload);
        let signed = body.clone().sign(&dev_key(1)).to_bytes();
        let impersonated = body.clone().impersonated(sender).bytes().to_vec();
        let unsigned = Unsigned {
            sender,
            gas_limit: body.gas_limit,
            value: 7,
            payload: body.payload.clone(),
        };
        let unsigned_bytes = unsigned.to_bytes();
        assert_eq!(unsigned_bytes.len() as u64, unsigned.encoded_len());
        // The documented layout: tag, sender, gas limit, value, payload.
        let mut expected = vec![UNSIGNED_TAG];
        expected.extend(sender.0);
        expected.extend(body.gas_limit.to_le_bytes());
        expected.extend(7u128.to_le_bytes());
        expected.extend(&payload);
        assert_eq!(unsigned_bytes, expected);
        assert!(impersonated.ends_with(&payload));
        assert!(signed[..signed.len() - 64].ends_with(&payload));

        let read = |bytes: &[u8]| StoredTx::from_bytes(bytes).unwrap();
        assert_eq!(signed[0], TX_VERSION);
        assert!(matches!(read(&signed), StoredTx::Signed(_)));
        assert_eq!(read(&signed).sender(), Sender::Signed(body.public_key));
        assert_eq!(read(&impersonated).sender(), Sender::Impersonated(sender));
        assert_eq!(read(&impersonated).body(), Some(&body));
        // Read and verified, every kind is the same request.
        let rules = ChainRules::new("ward-dev").vouching();
        for bytes in [&signed, &impersonated] {
            let tx = read(bytes).verify(&rules).unwrap();
            assert_eq!(tx.payload(), &body.payload);
            assert_eq!((tx.nonce(), tx.gas_limit()), (body.nonce, body.gas_limit));
        }
        assert_eq!(
            read(&unsigned_bytes),
            StoredTx::Unsigned(unsigned.clone(), GasUnit::Ward)
        );
        assert_eq!(read(&unsigned_bytes).sender().address(), sender);
        // Cut short or padded, none reads.
        for bytes in [&signed, &impersonated, &unsigned_bytes] {
            let mut long = bytes.clone();
            long.push(0);
            assert!(StoredTx::from_bytes(&long).is_err());
            assert!(StoredTx::from_bytes(&bytes[..bytes.len() - 1]).is_err());
        }
    }
    // Any other first byte is no transaction: an unsigned transaction of
    // the encoding before format 6 started with a payload tag 0 to 6.
    let kinds = [
        TX_VERSION,
        IMPERSONATED_TAG,
        UNSIGNED_TAG,
        eth::ETH_TAG,
        ETH_GAS_TAG,
    ];
    for first in (0..=u8::MAX).filter(|b| !kinds.contains(b)) {
        assert!(matches!(
            StoredTx::from_bytes(&[first, 0, 0, 0]),
            Err(TxError::Version(b)) if b == first
        ));
    }
    assert!(StoredTx::from_bytes(&[]).is_err());
}

proptest! {
    /// Any bytes at all read as a stored transaction or are refused, and
    /// what reads is the canonical encoding of what it read.
    #[test]
    fn arbitrary_bytes_read_as_a_stored_transaction_or_fail(
        first in prop::sample::select(vec![TX_VERSION, IMPERSONATED_TAG, UNSIGNED_TAG, eth::ETH_TAG, ETH_GAS_TAG]),
        rest in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut bytes = vec![first];
        bytes.extend(rest);
        if let Ok(StoredTx::Unsigned(tx, GasUnit::Ward)) = StoredTx::from_bytes(&bytes) {
            prop_assert_eq!(tx.to_bytes(), bytes.clone());
        }
        // Whatever reads, verified where the rules vouch, is stored as
        // the bytes it was read from.
        if let Ok(stored) = StoredTx::from_bytes(&bytes)
            && !matches!(stored, StoredTx::Signed(_) | StoredTx::Ethereum(_))
        {
            let tx = stored.verify(&ChainRules::new("any").vouching()).unwrap();
            prop_assert_eq!(tx.bytes(), &bytes[..]);
        }
    }
}

/// An impersonated or unsigned transaction marked as counting EVM gas
/// ([`ETH_GAS_TAG`]) round-trips with its access list's size, hashes
/// apart from the same one in Ward gas, and is taken only where the rules
/// vouch; signed ones and ones in EVM gas already are not marked again,
/// and the mark wraps nothing else.
#[test]
fn a_transaction_in_evm_gas_round_trips_with_its_mark() {
    let sender = Address([0x77; 32]);
    let access = AccessListSize {
        accounts: 2,
        keys: 5,
    };
    let unit = GasUnit::Ethereum(access);
    let body = TxBody {
        public_key: [0; 32],
        gas_price: 3,
        ..call(4)
    };
    let ward = body.clone().impersonated(sender);
    let evm = body.clone().impersonated_in(sender, unit);
    assert_eq!(ward.gas_unit(), GasUnit::Ward);
    assert_eq!(evm.gas_unit(), unit);
    assert!(evm.gas_unit().is_ethereum());
    assert_ne!(evm.hash(), ward.hash());
    assert_eq!(evm.bytes()[0], ETH_GAS_TAG);
    assert_eq!(&evm.bytes()[17..], ward.bytes());
    let stored = StoredTx::from_bytes(evm.bytes()).unwrap();
    assert_eq!(stored, StoredTx::Impersonated(sender, body.clone(), unit));
    assert_eq!(stored.gas_unit(), unit);
    let rules = ChainRules::new("ward-dev");
    assert_eq!(stored.clone().verify(&rules), Err(TxError::Unsigned));
    assert_eq!(stored.verify(&rules.clone().vouching()).unwrap(), evm);
    // An embedder's unsigned one, the same way.
    let unsigned = Unsigned::call(sender, Address([9; 32]), vec![1], 50_000);
    let marked = unsigned.clone().vouched_in(unit);
    let read = StoredTx::from_bytes(marked.bytes()).unwrap();
    assert_eq!(read, StoredTx::Unsigned(unsigned.clone(), unit));
    assert_eq!(read.verify(&rules.clone().vouching()).unwrap(), marked);
    assert_eq!(
        unsigned.clone().vouched_in(GasUnit::Ward),
        unsigned.clone().vouched()
    );
    // Marked once only, and never a signed transaction.
    assert!(marked.in_evm_gas(access).is_none());
    let key = SigningKey::from_bytes(&[5; 32]);
    assert!(
        body.clone()
            .sign(&key)
            .verified()
            .in_evm_gas(access)
            .is_none()
    );
    // The mark wraps an impersonated or unsigned transaction only: not a
    // signed one, not another mark, not nothing.
    let signed = body.sign(&key).to_bytes();
    let wrap = |inner: &[u8]| {
        let mut bytes = vec![ETH_GAS_TAG];
        bytes.extend([0u8; 16]);
        bytes.extend(inner);
        bytes
    };
    assert!(StoredTx::from_bytes(&wrap(&signed)).is_err());
    assert!(StoredTx::from_bytes(&wrap(evm.bytes())).is_err());
    assert!(StoredTx::from_bytes(&wrap(&[])).is_err());
    assert!(StoredTx::from_bytes(&[ETH_GAS_TAG, 1, 2]).is_err());
}
