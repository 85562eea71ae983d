use proptest::prelude::*;

use super::{ParseError, amount, float, hex_bytes, integer, wasm_i32, wasm_i64, whole_units};

/// What the issue found the old parsers accepting or crashing on.
#[test]
fn the_loose_and_crashing_inputs_are_refused() {
    // Non-ASCII in hex: a char-boundary panic before.
    for text in ["0xé1", "0x1é", "é", "0x€€", "0x🦀", "0xa🦀"] {
        assert!(
            matches!(hex_bytes(text), Err(ParseError::Hex { .. })),
            "{text}"
        );
    }
    assert!(integer::<u64>("1é").is_err());
    assert!(integer::<i128>("-🦀").is_err());
    // Negating i128::MIN's magnitude: in range, exactly once.
    assert_eq!(
        integer::<i128>("-170141183460469231731687303715884105728"),
        Ok(i128::MIN)
    );
    assert!(matches!(
        integer::<i128>("-170141183460469231731687303715884105729"),
        Err(ParseError::Range { .. })
    ));
    assert_eq!(
        integer::<i128>("-0x8000_0000_0000_0000_0000_0000_0000_0000"),
        Ok(i128::MIN)
    );
    // Signs where there may be none.
    for text in ["0x+1", "+1", "--5", "0x-5", "-0x-5", "+0x1"] {
        assert!(integer::<i64>(text).is_err(), "{text}");
    }
    assert!(matches!(integer::<u64>("-5"), Err(ParseError::Sign { .. })));
    assert!(matches!(integer::<u64>("-0"), Err(ParseError::Sign { .. })));
    // Underscores only between digits, the same for every option.
    assert_eq!(integer::<u64>("1_000_000"), Ok(1_000_000));
    assert_eq!(integer::<u32>("0xff_ff"), Ok(0xffff));
    for text in ["_1", "1_", "1__0", "0x_1", "-_1", "_", "0x"] {
        assert!(integer::<i64>(text).is_err(), "{text}");
    }
    // Out of range is refused, never wrapped or reduced.
    assert!(matches!(
        integer::<u8>("256"),
        Err(ParseError::Range { .. })
    ));
    assert!(matches!(
        integer::<u128>("340282366920938463463374607431768211456"),
        Err(ParseError::Range { .. })
    ));
    assert!(matches!(
        integer::<i8>("-129"),
        Err(ParseError::Range { .. })
    ));
    // Hex bytes: exactly `0x` and an even number of digits.
    assert_eq!(hex_bytes("0x"), Ok(vec![]));
    assert_eq!(hex_bytes("0x00ff10"), Ok(vec![0, 0xff, 0x10]));
    assert_eq!(hex_bytes("0xAbCd"), Ok(vec![0xab, 0xcd]));
    for text in ["", "00", "0x0", "0xg0", "0X00", " 0x00", "0x00 "] {
        assert!(hex_bytes(text).is_err(), "{text:?}");
    }
    // Floats: no `+`.
    assert!(float::<f32>("+1.5", "f32").is_err());
    assert_eq!(float::<f64>("-2e3", "f64"), Ok(-2000.0));
}

#[test]
fn wasm_integers_take_both_signed_and_unsigned_spellings() {
    assert_eq!(wasm_i32("-1"), Ok(-1));
    assert_eq!(wasm_i32("4294967295"), Ok(-1));
    assert_eq!(wasm_i32("0xffff_ffff"), Ok(-1));
    assert!(wasm_i32("4294967296").is_err());
    assert!(wasm_i32("-2147483649").is_err());
    assert_eq!(wasm_i64("18446744073709551615"), Ok(-1));
    assert_eq!(wasm_i64("-9223372036854775808"), Ok(i64::MIN));
    assert!(wasm_i64("18446744073709551616").is_err());
}

/// `n` written in decimal or hex, with `_` inserted between digits where
/// `cuts` says.
fn spell(n: u128, hex: bool, cuts: &[bool]) -> String {
    let digits = if hex { format!("{n:x}") } else { n.to_string() };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && cuts.get(i).copied().unwrap_or(false) {
            out.push('_');
        }
        out.push(c);
    }
    if hex { format!("0x{out}") } else { out }
}

proptest! {
    #[test]
    fn every_u64_reads_back_in_any_spelling(n: u64, hex: bool, cuts in prop::collection::vec(any::<bool>(), 0..40)) {
        prop_assert_eq!(integer::<u64>(&spell(u128::from(n), hex, &cuts)), Ok(n));
    }

    #[test]
    fn every_i128_reads_back_in_any_spelling(n: i128, hex: bool, cuts in prop::collection::vec(any::<bool>(), 0..60)) {
        let magnitude = spell(n.unsigned_abs(), hex, &cuts);
        let text = if n < 0 { format!("-{magnitude}") } else { magnitude };
        prop_assert_eq!(integer::<i128>(&text), Ok(n));
    }

    #[test]
    fn a_value_too_large_for_its_type_is_refused(n in 256u128..) {
        prop_assert!(
            matches!(integer::<u8>(&n.to_string()), Err(ParseError::Range { .. })),
            "expected a range error"
        );
    }

    #[test]
    fn bytes_read_back(bytes: Vec<u8>) {
        let text: String = std::iter::once("0x".to_owned())
            .chain(bytes.iter().map(|b| format!("{b:02x}")))
            .collect();
        prop_assert_eq!(hex_bytes(&text), Ok(bytes));
    }

    /// No input panics any parser; anything accepted is what Rust's own
    /// parser reads once the underscores are gone.
    #[test]
    fn no_input_panics(text in "\\PC{0,24}") {
        let _ = hex_bytes(&text);
        let _ = wasm_i32(&text);
        let _ = wasm_i64(&text);
        let _ = float::<f64>(&text, "f64");
        if let Ok(n) = integer::<i64>(&text) {
            let plain = text.replace('_', "");
            let expected = match plain.strip_prefix('-') {
                Some(rest) => rest.strip_prefix("0x").map_or_else(
                    || plain.parse::<i64>().ok(),
                    |h| i128::from_str_radix(h, 16).ok().and_then(|m| i64::try_from(-m).ok()),
                ),
                None => plain.strip_prefix("0x").map_or_else(
                    || plain.parse::<i64>().ok(),
                    |h| i64::from_str_radix(h, 16).ok(),
                ),
            };
            prop_assert_eq!(Some(n), expected);
        }
    }

    /// Near-misses of valid numbers: every one is refused, none panics.
    #[test]
    fn signs_and_stray_underscores_are_refused(n: u32, junk in "[+_-]") {
        let text = format!("{junk}{n}");
        prop_assert!(integer::<u32>(&text).is_err());
        let text = format!("{n}{junk}");
        prop_assert!(integer::<u32>(&text).is_err());
    }
}

#[test]
fn amounts_in_whole_units_or_the_smallest() {
    assert_eq!(amount("1500").unwrap().in_smallest(6), Ok(1500));
    assert_eq!(amount("1.5").unwrap().in_smallest(6), Ok(1_500_000));
    assert_eq!(amount(".25").unwrap().in_smallest(2), Ok(25));
    assert_eq!(amount("2.000000").unwrap().in_smallest(0), Ok(2));
    assert_eq!(amount("1.0").unwrap().in_smallest(18), Ok(10u128.pow(18)));
    assert!(
        amount("1.5").unwrap().in_smallest(0).is_err(),
        "no decimals"
    );
    assert!(amount("0.1234567").unwrap().in_smallest(6).is_err());
    assert!(amount("1e3").is_err());
    assert!(amount("1.").is_err());
    assert!(amount("-1.5").is_err());
    assert!(amount("1.5.5").is_err());
    assert!(
        amount(&format!("{}.0", u128::MAX))
            .unwrap()
            .in_smallest(1)
            .is_err()
    );
    assert_eq!(whole_units(1_500_000, 6), "1.5");
    assert_eq!(whole_units(3, 0), "3");
    assert_eq!(whole_units(10u128.pow(18) * 7, 18), "7");
    assert_eq!(whole_units(1, 18), "0.000000000000000001");
    // Round trips.
    for (value, decimals) in [(0u128, 18u8), (1, 18), (123_456_789, 4), (u128::MAX, 30)] {
        let text = whole_units(value, decimals);
        let text = if text.contains('.') {
            text
        } else {
            format!("{text}.0")
        };
        assert_eq!(
            amount(&text).unwrap().in_smallest(decimals),
            Ok(value),
            "{text}"
        );
    }
}
