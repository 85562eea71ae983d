use super::{CodeKind, Gas, RuntimeName};

#[test]
fn checked_arithmetic_reports_overflow() {
    assert_eq!(Gas::MAX.checked_add(Gas::new(1)), None);
    assert_eq!(Gas::ZERO.checked_sub(Gas::new(1)), None);
    assert_eq!(Gas::new(7).checked_add(Gas::new(3)), Some(Gas::new(10)));
}

#[test]
fn saturating_arithmetic_never_wraps() {
    assert_eq!(Gas::MAX.saturating_add(Gas::MAX), Gas::MAX);
    assert_eq!(Gas::new(3).saturating_sub(Gas::new(5)), Gas::ZERO);
}

#[test]
fn linear_charge_saturates_on_hostile_operands() {
    assert_eq!(Gas::linear(10, 3, 4), Gas::new(22));
    assert_eq!(Gas::linear(10, u64::MAX, 2), Gas::MAX);
    assert_eq!(Gas::linear(u64::MAX, 1, 1), Gas::MAX);
}

#[test]
fn runtime_names_are_checked_and_kinds_round_trip() {
    for bad in [
        "",
        "Evm",
        "1evm",
        "ward",
        "wasi",
        "wasi-reactor",
        "e_v_m",
        "a-very-long-runtime-name",
    ] {
        assert_eq!(RuntimeName::new(bad), None, "{bad}");
    }
    let evm = RuntimeName::new("evm").unwrap();
    assert_eq!(evm.as_str(), "evm");
    for kind in [
        CodeKind::Wasi,
        CodeKind::WasiReactor,
        CodeKind::Runtime(evm),
    ] {
        let mut bytes = alloc::vec::Vec::new();
        kind.encode_explicit(&mut bytes);
        assert_eq!(bytes.len() as u64, kind.explicit_len());
        let mut input = &bytes[..];
        assert_eq!(CodeKind::decode_explicit(&mut input).unwrap(), kind);
        assert!(input.is_empty());
        assert_eq!(CodeKind::parse(kind.as_str()), Some(kind));
    }
    // Ward's kind is never written explicitly, and names are checked.
    assert!(CodeKind::decode_explicit(&mut &[0u8][..]).is_err());
    assert!(CodeKind::decode_explicit(&mut &[2u8, 1, 0, 0, 0, b'W'][..]).is_err());
    assert_eq!(CodeKind::WasiReactor.tag(), 3);
    assert!(CodeKind::decode_explicit(&mut &[4u8][..]).is_err());
}
