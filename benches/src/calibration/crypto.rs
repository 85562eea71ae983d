//! The calibration paths of the host's signature checks and curve
//! arithmetic: `verify_ed25519`, `recover_secp256k1` and bn254's three,
//! each on inputs that make it do its whole work.

use super::{Path, Target, driver, path, wat_bytes};

/// The paths, in the order the suite lists them.
pub(super) fn paths() -> Vec<Path> {
    // bn254's G1 generator (1, 2) and G2 generator, as the host
    // functions read them.
    let mut g1 = [0u8; 64];
    g1[31] = 1;
    g1[63] = 2;
    let g2 = hex::decode(concat!(
        "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2",
        "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed",
        "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b",
        "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"
    ))
    .expect("hex digits");
    let pair = [&g1[..], &g2].concat();
    vec![
        verify_ed25519(),
        recover_secp256k1(),
        bn254("bn254_add", &[g1, g1].concat()),
        bn254("bn254_mul", &[&g1[..], &[0xff; 32]].concat()),
        bn254("bn254_pairing_1", &pair),
        bn254("bn254_pairing_4", &pair.repeat(4)),
    ]
}

/// `verify_ed25519` of a valid signature of 32 bytes per repeat (the
/// whole verification runs).
fn verify_ed25519() -> Path {
    use ed25519_dalek::Signer;
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let signature = key.sign(&[0; 32]);
    let data = format!(
        r#"(data (i32.const 64) "{}") (data (i32.const 128) "{}")"#,
        wat_bytes(key.verifying_key().as_bytes()),
        wat_bytes(&signature.to_bytes())
    );
    let import =
        r#"(import "ward" "verify_ed25519" (func $f (param i32 i32 i32 i32) (result i32)))"#;
    let body = "(if (i32.eqz (call $f (i32.const 64) (i32.const 1024) (i32.const 32) (i32.const 128))) (then unreachable))";
    path(
        "host",
        "verify_ed25519",
        driver(import, 2, &data, body),
        Target::None,
    )
}

/// `recover_secp256k1` of a valid signature of a 32-byte digest per
/// repeat (the whole recovery runs).
fn recover_secp256k1() -> Path {
    let key = k256::ecdsa::SigningKey::from_slice(&[7; 32]).expect("a valid key");
    let (signature, recovery_id) = key
        .sign_prehash_recoverable(&[9; 32])
        .expect("a digest signs");
    let data = format!(
        r#"(data (i32.const 64) "{}") (data (i32.const 128) "{}")"#,
        wat_bytes(&[9; 32]),
        wat_bytes(&signature.to_bytes())
    );
    let import =
        r#"(import "ward" "recover_secp256k1" (func $f (param i32 i32 i32 i32) (result i32)))"#;
    let body = format!(
        "(if (i32.eqz (call $f (i32.const 64) (i32.const 128) (i32.const {}) (i32.const 256))) (then unreachable))",
        recovery_id.to_byte()
    );
    path(
        "host",
        "recover_secp256k1",
        driver(import, 2, &data, &body),
        Target::None,
    )
}

/// The bn254 host function `name` names (its prefix before a count) on
/// `input` per repeat, which must succeed (a pairing of generators, not
/// necessarily one: the whole check runs either way).
fn bn254(name: &str, input: &[u8]) -> Path {
    let data = format!(r#"(data (i32.const 1024) "{}")"#, wat_bytes(input));
    let (import, call) = if name.starts_with("bn254_pairing") {
        (
            r#"(import "ward" "bn254_pairing" (func $f (param i32 i32) (result i32)))"#,
            format!(
                "(i32.lt_s (call $f (i32.const 1024) (i32.const {})) (i32.const 0))",
                input.len()
            ),
        )
    } else {
        (
            if name == "bn254_add" {
                r#"(import "ward" "bn254_add" (func $f (param i32 i32) (result i32)))"#
            } else {
                r#"(import "ward" "bn254_mul" (func $f (param i32 i32) (result i32)))"#
            },
            "(i32.eqz (call $f (i32.const 1024) (i32.const 64)))".to_owned(),
        )
    };
    let body = format!("(if {call} (then unreachable))");
    path("host", name, driver(import, 2, &data, &body), Target::None)
}
