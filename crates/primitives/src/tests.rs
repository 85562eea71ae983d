use super::Gas;

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
