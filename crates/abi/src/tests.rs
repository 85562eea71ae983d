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
fn every_rule_is_consistent_with_the_others() {
    for &f in HostFn::ALL {
        let (uses, cost) = (f.uses(), f.cost());
        // A host charge beyond the prepaid base must reach the counter.
        assert!(
            cost.is_base() || uses.gas,
            "{f}: costs {cost} without syncing gas"
        );
        // Lengths are lengths of guest memory ranges.
        assert!(cost.terms.is_empty() || uses.memory, "{f}: {cost}");
        for term in cost.terms {
            for &i in term.params {
                assert_eq!(f.params()[usize::from(i)], ValType::I32, "{f}: {cost}");
            }
        }
        assert_eq!(uses.suspends, f == HostFn::Call, "{f}");
    }
}

#[test]
fn costs_render_and_evaluate_as_written_in_the_table() {
    let rate = |r: super::Rate| match r {
        super::Rate::StorageRead => 1000,
        super::Rate::StoragePerByte => 10,
        super::Rate::HashPer64Bytes => 7,
        _ => 1,
    };
    let storage_read = HostFn::StorageRead.cost();
    assert_eq!(
        storage_read.to_string(),
        "host_call + storage_read + storage_per_byte * (key_len + dst_cap)"
    );
    // key_len = 3, dst_cap = 5 (parameters 1 and 3).
    let lens = [100, 3, 200, 5];
    assert_eq!(
        storage_read.evaluate(50, rate, |i| lens[i]),
        50 + 1000 + 10 * 8
    );
    let sha = HostFn::HashSha256.cost();
    assert_eq!(
        sha.to_string(),
        "host_call + hash_per_64_bytes * ceil(len / 64)"
    );
    assert_eq!(sha.evaluate(50, rate, |_| 65), 50 + 7 * 2);
    assert_eq!(sha.evaluate(50, rate, |_| 0), 50);
    assert_eq!(
        sha.evaluate(u64::MAX, rate, |_| u64::MAX),
        u64::MAX,
        "saturates"
    );
    assert!(HostFn::Exit.cost().is_base());
    assert_eq!(HostFn::Exit.cost().to_string(), "host_call");
}

/// The function table of docs/host-abi.md is rendered from the ABI table;
/// `BLESS=1` rewrites it.
#[test]
fn host_abi_doc_table_is_the_rendered_abi_table() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/host-abi.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let table = HostFn::doc_table().to_string();
    let header = table.lines().next().unwrap();
    let start = doc
        .find(header)
        .expect("docs/host-abi.md has the function table");
    let end = doc[start..]
        .find("\n\n")
        .map_or(doc.len(), |n| start + n + 1);
    if std::env::var_os("BLESS").is_some() {
        let blessed = std::format!("{}{}{}", &doc[..start], table, &doc[end..]);
        std::fs::write(path, blessed).unwrap();
        return;
    }
    assert_eq!(
        &doc[start..end],
        table,
        "docs/host-abi.md's function table is stale: BLESS=1 cargo test -p ward-abi"
    );
    let title = std::format!("# Ward host ABI, version {}\n", super::ABI_VERSION);
    assert!(
        doc.starts_with(&title),
        "docs/host-abi.md should start {title:?}"
    );
    let status = std::format!(
        "returns `{}` (ok), `{}`\n  (reverted",
        super::call::OK,
        super::call::REVERTED
    );
    assert!(doc.contains(&status), "docs/host-abi.md lacks {status:?}");
}
