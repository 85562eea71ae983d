extern crate std;

use super::{HostFn, ValType};
use std::{collections::BTreeSet, string::ToString};

#[test]
fn names_are_unique_and_round_trip() {
    let mut seen = BTreeSet::new();
    for &f in HostFn::ALL {
        assert!(seen.insert(f.name()), "duplicate name {}", f.name());
        assert_eq!(HostFn::from_name(f.name()), Some(f));
        assert_eq!(f.params().len(), f.param_names().len());
        assert!(f.results().len() <= 1);
    }
    assert_eq!(HostFn::from_name("no_such_function"), None);
}

#[test]
fn signatures_match_the_documented_abi() {
    assert_eq!(HostFn::InputSize.results(), &[ValType::I32]);
    assert_eq!(HostFn::GasLeft.results(), &[ValType::I64]);
    assert_eq!(HostFn::Exit.params(), &[ValType::I32]);
    assert_eq!(
        HostFn::InputRead.to_string(),
        "ward.input_read(dst: i32, offset: i32, len: i32)"
    );
    assert_eq!(HostFn::GasLeft.to_string(), "ward.gas_left() -> i64");
}

#[test]
fn host_abi_doc_lists_every_function_exactly() {
    let doc = include_str!("../../../docs/host-abi.md");
    for &f in HostFn::ALL {
        let row = std::format!("| `{}` | `{}` |", f.name(), f);
        assert!(doc.contains(&row), "docs/host-abi.md lacks the row {row}");
    }
    let rows = doc
        .lines()
        .filter(|l| l.starts_with("| `") && l.contains("`ward."))
        .count();
    assert_eq!(
        rows,
        HostFn::ALL.len(),
        "docs/host-abi.md lists functions the table does not have"
    );
}
