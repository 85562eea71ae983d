use ward_sdk::codec::Encode;

use super::{call_input, encode_arg};

fn arg(spec: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    encode_arg(spec, &mut out)?;
    Ok(out)
}

fn sdk<T: Encode + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    value.encode_to(&mut out);
    out
}

/// Each scalar written on the command line encodes as the SDK encodes the
/// Rust value, integers in the command line's syntax.
#[test]
fn scalars_encode_as_the_sdk_does() {
    assert_eq!(arg("u8:255").unwrap(), sdk(&255u8));
    assert_eq!(arg("u16:0xff_ff").unwrap(), sdk(&u16::MAX));
    assert_eq!(arg("u32:1_000").unwrap(), sdk(&1000u32));
    assert_eq!(arg("u64:18446744073709551615").unwrap(), sdk(&u64::MAX));
    assert_eq!(
        arg(&format!("u128:{}", u128::MAX)).unwrap(),
        sdk(&u128::MAX)
    );
    assert_eq!(arg("i8:-128").unwrap(), sdk(&i8::MIN));
    assert_eq!(arg("i16:-2").unwrap(), sdk(&-2i16));
    assert_eq!(arg("i32:-7").unwrap(), sdk(&-7i32));
    assert_eq!(arg("i64:-9223372036854775808").unwrap(), sdk(&i64::MIN));
    assert_eq!(
        arg(&format!("i128:{}", i128::MIN)).unwrap(),
        sdk(&i128::MIN)
    );
    assert_eq!(arg("bool:true").unwrap(), sdk(&true));
    assert_eq!(arg("str:hello, world").unwrap(), sdk("hello, world"));
    assert_eq!(arg("bytes:0x0102").unwrap(), sdk(&vec![1u8, 2]));
    let address = format!("0x{}", "ab".repeat(32));
    assert_eq!(
        arg(&format!("address:{address}")).unwrap(),
        sdk(&[0xabu8; 32])
    );
    assert_eq!(arg("raw:0x0102").unwrap(), vec![1, 2]);
}

/// Compound types take JSON, as the schema's JSON arguments do.
#[test]
fn compound_values_are_json() {
    assert_eq!(arg("vec<u32>:[1,2]").unwrap(), sdk(&vec![1u32, 2]));
    assert_eq!(arg("option<str>:null").unwrap(), sdk(&None::<String>));
    assert_eq!(arg("option<u8>:7").unwrap(), sdk(&Some(7u8)));
    assert_eq!(arg("(u8, bool):[1, false]").unwrap(), sdk(&(1u8, false)));
    assert_eq!(arg("[u8; 2]:\"0x0102\"").unwrap(), vec![1, 2]);
}

/// What does not fit is refused with a line that says why; nothing is
/// wrapped or clamped.
#[test]
fn values_that_do_not_fit_are_refused() {
    for (spec, says) in [
        ("u8:256", "u8"),
        ("u32:-1", "u32"),
        ("i8:+1", "+1"),
        ("bool:yes", "not a bool"),
        ("address:0x01", "0x01"),
        ("bytes:0x1", "0x1"),
        ("u7:1", "not a type"),
        ("vec<u16>:[70000]", "out of range"),
        ("vec<u8>:[1]", "0x"),
        ("vec<u16>:not json", "not JSON"),
        ("no colon", "TYPE:VALUE"),
    ] {
        let error = arg(spec).unwrap_err().to_string();
        assert!(error.contains(says), "{spec}: {error}");
    }
}

#[test]
fn a_call_is_its_method_then_its_arguments() {
    let input = call_input("transfer", &["u64:5".into(), "bool:true".into()]).unwrap();
    assert_eq!(
        input,
        ward_sdk::codec::call_input("transfer", &(5u64, true))
    );
}
