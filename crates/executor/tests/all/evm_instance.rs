//! What the EVM runtime answers does not depend on what its instance
//! served before (`docs/evm.md`, "The runtime's instance"): a thread's
//! idle instance serves call after call, its heap forgotten between them,
//! and a node whose instance ran other work must answer as one whose
//! instance is fresh. KZG proofs that verify, one after another and again
//! after calls that fill the heap, all verify (revm's own check decoded
//! the trusted setup into the heap on first use, where later calls wrote
//! over it, and rejected a proof it had verified on a fresh instance).
//! Both backends.

#![allow(clippy::unwrap_used, reason = "test")]

use ward_primitives::{CodeKind, RuntimeName};
use ward_testkit::evm::{calldata, creation, keccak, precompile_call, precompile_inputs, word};
use ward_vm::BackendKind;

use crate::ALICE;
use crate::evm::Chain;

/// What the point evaluation returns when a proof verifies: the blob's
/// field elements (4 096) and the scalar field's modulus.
fn verified() -> Vec<u8> {
    let mut out = word(4_096).to_vec();
    out.extend(
        hex::decode("73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001").unwrap(),
    );
    out
}

/// Two of EIP-4844's proof vectors (as ethereum/tests'
/// `point_evaluation_precompile_external_vectors` carries them:
/// versioned hash, z, y, commitment, proof): the constant polynomial 0
/// at 2, and one at the largest scalar. With revm's own check, the second
/// was rejected whenever the instance had verified the first before.
const VECTORS: [&str; 2] = [
    concat!(
        "010657f37554c781402a22917dee2f75def7ab966d7b770905398eba3c444014",
        "0000000000000000000000000000000000000000000000000000000000000002",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "c000000000000000000000000000000000000000000000000000000000000000",
        "00000000000000000000000000000000c0000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000000",
    ),
    concat!(
        "01ad7666ef9d8f53b5adf54f029b13b6f171b1d0bd346a2ede315d3e243484ef",
        "73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000000",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "93efc82d2017e9c57834a1246463e64774e56183bb247c8fc9dd98c56817e878",
        "d97b05f5c8d900acf1fbbbca6f14655692c51ff81dd71dab71cefecd79e8274b",
        "4b7ba36a0f40e2dc086bc4061c7f63249877db23297212991fd63e07b7ebc348",
    ),
];

fn kzg_after_other_work(kind: BackendKind) -> Vec<(Vec<u8>, u64)> {
    let mut chain = Chain::new(kind);
    let evm = CodeKind::Runtime(RuntimeName::new("evm").unwrap());
    let work = chain.deploy(creation("Work"), Vec::new(), evm);
    let (_, at, data) = precompile_inputs()
        .into_iter()
        .find(|(name, _, _)| *name == "kzg_point_evaluation")
        .unwrap();
    let mut proofs: Vec<Vec<u8>> = VECTORS.iter().map(|v| hex::decode(v).unwrap()).collect();
    proofs.push(data.clone());
    // The same with another value at the point: a proof that does not
    // verify (the precompile fails; `Work.precompile` reverts).
    let mut wrong = data;
    wrong[95] ^= 1;
    let mut figures = Vec::new();
    for round in 0..2 {
        for (i, proof) in proofs.iter().enumerate() {
            let input = precompile_call(at, proof, 1);
            let checked = chain.call_with_gas(ALICE, work, input, 200_000_000);
            assert_eq!(checked.status.as_str(), "ok", "{checked:?}");
            // `Work.precompile` returns the hash of the precompile's output.
            let expected = keccak(&verified());
            assert_eq!(
                checked.output, expected,
                "proof {i}, round {round}, on {kind:?}"
            );
            figures.push((checked.output, checked.gas_used));
        }
        for input in [
            calldata("memory_(uint256)", &[word(400)]),
            calldata("hashing(uint256)", &[word(100)]),
        ] {
            let other = chain.call_with_gas(ALICE, work, input, 200_000_000);
            assert_eq!(other.status.as_str(), "ok", "{other:?}");
        }
        let rejected =
            chain.call_with_gas(ALICE, work, precompile_call(at, &wrong, 1), 200_000_000);
        assert_eq!(rejected.status.as_str(), "reverted", "{rejected:?}");
    }
    assert_eq!(figures[0].1, figures[3].1, "each round costs the same");
    figures
}

#[test]
fn a_kzg_proof_verifies_whatever_the_instance_ran_before_on_both_backends() {
    crate::on_both_backends_alike(kzg_after_other_work);
}
