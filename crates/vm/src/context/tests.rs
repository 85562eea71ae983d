use ward_abi::HostFn;
use ward_primitives::Gas;

use super::abi::checked_range;
use super::{CallContext, GuestMemory, HostStop};
use crate::{ErrorKind, Value};

fn trap_kind(r: Result<Option<Value>, HostStop>) -> ErrorKind {
    match r {
        Err(HostStop::Trap(f)) => f.kind,
        other => panic!("expected a trap, got {other:?}"),
    }
}

#[test]
fn ranges_are_checked_without_wrapping() {
    assert_eq!(checked_range(0, 4, 4, "t").ok(), Some(0..4));
    assert_eq!(checked_range(4, 0, 4, "t").ok(), Some(4..4));
    assert!(checked_range(5, 0, 4, "t").is_err());
    assert!(checked_range(1, 4, 4, "t").is_err());
    // ptr + len wraps in 32 bits: still out of bounds, never a tiny range.
    assert!(checked_range(-1, 2, 1 << 20, "t").is_err());
    assert!(checked_range(i32::MAX, i32::MAX, usize::MAX, "t").is_ok());
    assert!(checked_range(-1, -1, 1 << 20, "t").is_err());
}

#[test]
fn input_read_copies_and_checks_both_ranges() {
    let mut ctx = CallContext::new(b"hello".to_vec(), Gas::new(10_000));
    let mut mem = [0u8; 8];
    let args = [Value::I32(2), Value::I32(1), Value::I32(3)];
    let mut memory = GuestMemory::new(&mut mem);
    assert!(ctx.call_abi(HostFn::InputRead, &args, &mut memory).is_ok());
    // What it wrote is marked (8 bytes: one granule).
    assert_eq!(memory.written(), 1);
    assert_eq!(&mem, b"\0\0ell\0\0\0");
    let past_input = [Value::I32(0), Value::I32(3), Value::I32(3)];
    assert_eq!(
        trap_kind(ctx.call_abi(
            HostFn::InputRead,
            &past_input,
            &mut GuestMemory::new(&mut mem)
        )),
        ErrorKind::MemoryOutOfBounds
    );
    let past_memory = [Value::I32(6), Value::I32(0), Value::I32(3)];
    assert_eq!(
        trap_kind(ctx.call_abi(
            HostFn::InputRead,
            &past_memory,
            &mut GuestMemory::new(&mut mem)
        )),
        ErrorKind::MemoryOutOfBounds
    );
}

#[test]
fn output_write_replaces_earlier_output() {
    let mut ctx = CallContext::default();
    let mut mem = *b"abcdef";
    ctx.call_abi(
        HostFn::OutputWrite,
        &[Value::I32(0), Value::I32(4)],
        &mut GuestMemory::new(&mut mem),
    )
    .unwrap();
    ctx.call_abi(
        HostFn::OutputWrite,
        &[Value::I32(4), Value::I32(2)],
        &mut GuestMemory::new(&mut mem),
    )
    .unwrap();
    assert_eq!(ctx.output(), b"ef");
}

#[test]
fn exit_stops_with_its_code() {
    let mut ctx = CallContext::default();
    assert!(matches!(
        ctx.call_abi(
            HostFn::Exit,
            &[Value::I32(7)],
            &mut GuestMemory::new(&mut [])
        ),
        Err(HostStop::Exit(7))
    ));
}

#[test]
fn debug_log_is_kept_only_when_enabled_and_bounded() {
    let mut mem = *b"hi";
    let args = [Value::I32(0), Value::I32(2)];
    let mut off = CallContext::default();
    off.call_abi(HostFn::DebugLog, &args, &mut GuestMemory::new(&mut mem))
        .unwrap();
    assert!(off.take_debug_log().is_empty());

    let mut on = CallContext::default().with_debug_log(true);
    let mut big = vec![b'x'; super::MAX_DEBUG_LOG_BYTES];
    on.call_abi(HostFn::DebugLog, &args, &mut GuestMemory::new(&mut mem))
        .unwrap();
    let all = [Value::I32(0), Value::I32(big.len() as i32)];
    on.call_abi(HostFn::DebugLog, &all, &mut GuestMemory::new(&mut big))
        .unwrap();
    assert_eq!(
        on.take_debug_log(),
        vec!["hi".to_string(), "[1 more debug_log lines dropped]".into()]
    );
}

#[test]
fn gas_left_reports_the_limit_minus_use() {
    let mut ctx = CallContext::new(Vec::new(), Gas::new(1234));
    // The call pays its own base cost (50) first.
    assert_eq!(
        ctx.call_abi(HostFn::GasLeft, &[], &mut GuestMemory::new(&mut []))
            .unwrap(),
        Some(Value::I64(1184))
    );
    assert_eq!(ctx.gas_used(), Gas::new(50));
}

#[test]
fn host_calls_pay_base_plus_bytes_and_fail_when_they_cannot() {
    let mut ctx = CallContext::new(vec![7; 100], Gas::new(50 + 100 + 49));
    let mut mem = [0u8; 128];
    let args = [Value::I32(0), Value::I32(0), Value::I32(100)];
    ctx.call_abi(HostFn::InputRead, &args, &mut GuestMemory::new(&mut mem))
        .unwrap();
    assert_eq!(ctx.gas_left(), Gas::new(49));
    // 49 left: not enough for another base cost.
    assert_eq!(
        trap_kind(ctx.call_abi(HostFn::InputSize, &[], &mut GuestMemory::new(&mut mem))),
        ErrorKind::OutOfGas
    );
    assert_eq!(ctx.gas_left(), Gas::ZERO);
}

#[test]
fn a_hostile_length_is_charged_in_full_before_the_range_check() {
    let mut ctx = CallContext::new(Vec::new(), Gas::new(1_000_000));
    // 4 GiB - 1 bytes requested: out of gas, not a cheap out-of-bounds trap.
    let args = [Value::I32(0), Value::I32(-1)];
    let result = ctx.call_abi(
        HostFn::OutputWrite,
        &args,
        &mut GuestMemory::new(&mut [0; 8]),
    );
    assert_eq!(trap_kind(result), ErrorKind::OutOfGas);
}

#[test]
fn report_gas_is_a_system_runtimes_alone() {
    // A contract's frame may not report: it traps, and reports nothing.
    let mut ctx = CallContext::new(Vec::new(), Gas::new(1_000));
    let refused = ctx.call_abi(
        HostFn::ReportGas,
        &[Value::I64(7)],
        &mut GuestMemory::new(&mut []),
    );
    assert_eq!(trap_kind(refused), ErrorKind::HostError);
    assert_eq!(ctx.runtime_gas(), None);
    // A runtime's: free, the last report stands, a negative one traps.
    let mut ctx = CallContext::new(Vec::new(), Gas::new(1_000)).with_host_costs_waived();
    for units in [5, 29_854] {
        ctx.call_abi(
            HostFn::ReportGas,
            &[Value::I64(units)],
            &mut GuestMemory::new(&mut []),
        )
        .unwrap();
    }
    assert_eq!(ctx.runtime_gas(), Some(29_854));
    assert_eq!(ctx.gas_left(), Gas::new(1_000));
    let negative = ctx.call_abi(
        HostFn::ReportGas,
        &[Value::I64(-1)],
        &mut GuestMemory::new(&mut []),
    );
    assert_eq!(trap_kind(negative), ErrorKind::HostError);
    assert_eq!(ctx.runtime_gas(), Some(29_854));
}

#[test]
fn charge_gas_charges_and_refuses_negative_amounts() {
    let mut ctx = CallContext::new(Vec::new(), Gas::new(1_000));
    ctx.call_abi(
        HostFn::ChargeGas,
        &[Value::I64(400)],
        &mut GuestMemory::new(&mut []),
    )
    .unwrap();
    assert_eq!(ctx.gas_left(), Gas::new(1_000 - 50 - 400));
    let negative = ctx.call_abi(
        HostFn::ChargeGas,
        &[Value::I64(-1)],
        &mut GuestMemory::new(&mut []),
    );
    assert_eq!(trap_kind(negative), ErrorKind::HostError);
    let too_much = ctx.call_abi(
        HostFn::ChargeGas,
        &[Value::I64(i64::MAX)],
        &mut GuestMemory::new(&mut []),
    );
    assert_eq!(trap_kind(too_much), ErrorKind::OutOfGas);
}

#[test]
fn a_host_function_s_result_is_small() {
    // It travels through every trampoline; a suspension's request is
    // boxed (it was 112 bytes inline).
    assert!(std::mem::size_of::<Result<Option<Value>, HostStop>>() <= 40);
}
