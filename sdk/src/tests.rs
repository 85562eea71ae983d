//! The codec on the host: round trips, exact lengths, and refusals.

extern crate std;

use alloc::{string::String, vec, vec::Vec};

use crate::codec::{Decode, DecodeError, Encode, call_input, decode_exact, encode, split_method};
use ward_primitives::Address;

fn round_trip<T: Encode + Decode + PartialEq + core::fmt::Debug>(value: T, len: usize) {
    let bytes = encode(&value);
    assert_eq!(bytes.len(), len, "{value:?}");
    assert_eq!(decode_exact::<T>(&bytes).unwrap(), value);
    // Every strict prefix is refused, never misread.
    for cut in 0..bytes.len() {
        assert!(
            decode_exact::<T>(&bytes[..cut]).is_err(),
            "{value:?} cut at {cut}"
        );
    }
    // So is any extra byte.
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(decode_exact::<T>(&longer), Err(DecodeError::TrailingBytes));
}

#[test]
fn every_type_round_trips_at_its_documented_length() {
    round_trip(0xabu8, 1);
    round_trip(-2i16, 2);
    round_trip(u32::MAX, 4);
    round_trip(i64::MIN, 8);
    round_trip(u128::MAX - 7, 16);
    round_trip(true, 1);
    round_trip(Address([9; 32]), 32);
    round_trip([1u8; 64], 64);
    round_trip(String::from("ward ✓"), 4 + 8);
    round_trip(vec![1u16, 2, 3], 4 + 6);
    round_trip(Some(5u64), 9);
    round_trip(None::<u64>, 1);
    round_trip((1u8, String::from("a"), Some(Address([1; 32]))), 1 + 5 + 33);
    assert_eq!(encode(&()), Vec::<u8>::new());
    assert_eq!(encode("ab"), encode(&String::from("ab")));
    assert_eq!(encode(&[1u8, 2][..]), encode(&vec![1u8, 2]));
}

#[test]
fn invalid_tags_and_strings_are_refused() {
    assert_eq!(decode_exact::<bool>(&[2]), Err(DecodeError::InvalidTag));
    assert_eq!(
        decode_exact::<Option<u8>>(&[2, 0]),
        Err(DecodeError::InvalidTag)
    );
    assert_eq!(
        decode_exact::<String>(&[2, 0, 0, 0, 0xff, 0xfe]),
        Err(DecodeError::InvalidUtf8)
    );
    // A length claim far beyond the input is refused without reserving it.
    assert_eq!(
        decode_exact::<Vec<u64>>(&[0xff, 0xff, 0xff, 0xff, 1]),
        Err(DecodeError::UnexpectedEnd)
    );
}

#[test]
fn call_inputs_split_into_method_and_arguments() {
    let input = call_input("transfer", &(Address([2; 32]), 7u128));
    let (method, args) = split_method(&input).unwrap();
    assert_eq!(method, "transfer");
    assert_eq!(
        decode_exact::<(Address, u128)>(args).unwrap(),
        (Address([2; 32]), 7)
    );
    assert!(split_method(&[9, 0, 0, 0, b'x']).is_err());
    assert!(split_method(&[1, 0, 0, 0, 0xff]).is_err());
    assert!(split_method(&[]).is_err());
}

#[test]
fn random_bytes_never_panic_the_decoders() {
    // The same cases on every run.
    let mut rng = ward_testkit::Rng::new(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let len = rng.below(48);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let _ = decode_exact::<(u8, String, Option<Vec<u32>>)>(&bytes);
        let _ = decode_exact::<Vec<(bool, Address)>>(&bytes);
        let _ = decode_exact::<Option<Option<i128>>>(&bytes);
        let _ = split_method(&bytes);
    }
}

#[test]
fn size_hints_are_exact_for_fixed_size_types() {
    fn exact<T: Encode + Decode>(value: T) {
        assert_eq!(encode(&value).len(), T::SIZE_HINT);
    }
    exact(1u8);
    exact(1i128);
    exact(true);
    exact(());
    exact(Address([3; 32]));
    exact([0u8; 64]);
    exact((Address([0; 32]), 5u64, false));
    assert_eq!(
        <Option<u64>>::SIZE_HINT,
        9,
        "the tag and the value when present"
    );
    crate::record! {
        struct Pair { a: u32, b: Address }
    }
    exact(Pair {
        a: 1,
        b: Address([1; 32]),
    });
}
