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
        let suspends = matches!(
            f,
            HostFn::Call | HostFn::Create | HostFn::CallWithValue | HostFn::CreateWithValue
        );
        assert_eq!(uses.suspends, suspends, "{f}");
        // The functions that run other code know where the caller's stack
        // ends.
        let runs_code = matches!(
            f,
            HostFn::Call
                | HostFn::Create
                | HostFn::CallWithValue
                | HostFn::CreateWithValue
                | HostFn::VmRun
                | HostFn::VmResume
        );
        assert_eq!(uses.stack, runs_code, "{f}");
        let vm = matches!(
            f,
            HostFn::VmCompile
                | HostFn::VmCompileStored
                | HostFn::VmLookup
                | HostFn::VmInstantiate
                | HostFn::VmRun
                | HostFn::VmResume
                | HostFn::VmReadMemory
                | HostFn::VmWriteMemory
                | HostFn::VmDestroy
        );
        assert_eq!(f.runs_children(), vm, "{f}");
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

/// Checks (or with `BLESS=1` rewrites) the function table in `doc`
/// (relative to the workspace) against `table`; returns the document.
fn doc_table(doc: &str, table: &str) -> std::string::String {
    let path = std::format!("{}/../../{doc}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let header = table.lines().next().unwrap();
    let start = text
        .find(header)
        .unwrap_or_else(|| panic!("{doc} has no function table"));
    let end = text[start..]
        .find("\n\n")
        .map_or(text.len(), |n| start + n + 1);
    if std::env::var_os("BLESS").is_some() {
        let blessed = std::format!("{}{}{}", &text[..start], table, &text[end..]);
        std::fs::write(&path, &blessed).unwrap();
        return blessed;
    }
    assert_eq!(
        &text[start..end],
        table,
        "{doc}'s function table is stale: BLESS=1 cargo test -p ward-abi"
    );
    text
}

/// The function table of docs/host-abi.md is rendered from the ABI table;
/// `BLESS=1` rewrites it.
#[test]
fn host_abi_doc_table_is_the_rendered_abi_table() {
    let doc = doc_table("docs/host-abi.md", &HostFn::doc_table().to_string());
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
    // The transient storage budget, in the MiB the document states.
    assert_eq!(super::MAX_TX_TRANSIENT_BYTES % (1024 * 1024), 0);
    let budget = std::format!(
        "`MAX_TX_TRANSIENT_BYTES` ({} MiB)",
        super::MAX_TX_TRANSIENT_BYTES / (1024 * 1024)
    );
    assert!(doc.contains(&budget), "docs/host-abi.md lacks {budget:?}");
}

/// The function table of docs/wasi.md is rendered from the WASI table;
/// `BLESS=1` rewrites it.
#[test]
fn wasi_doc_table_is_the_rendered_wasi_table() {
    doc_table("docs/wasi.md", &super::WasiFn::doc_table().to_string());
}

#[test]
fn wasi_rules_are_consistent() {
    use super::WasiFn;
    let mut seen = BTreeSet::new();
    for &f in WasiFn::ALL {
        assert!(seen.insert(f.name()), "duplicate name {}", f.name());
        assert_eq!(WasiFn::from_name(f.name()), Some(f));
        let (uses, cost) = (f.uses(), f.cost());
        assert!(
            cost.is_base() || uses.gas,
            "{f}: costs {cost} without syncing gas"
        );
        assert!(!uses.suspends, "{f}");
        // Every function returns an errno but proc_exit.
        let errno: &[ValType] = if f == WasiFn::ProcExit {
            &[]
        } else {
            &[ValType::I32]
        };
        assert_eq!(f.results(), errno, "{f}");
    }
    // CallContext::call_wasi holds the arguments in an array of 9.
    let widest = WasiFn::ALL.iter().map(|f| f.params().len()).max();
    assert_eq!(widest, Some(9));
    assert_eq!(
        WasiFn::FdRead.to_string(),
        "wasi_snapshot_preview1.fd_read(fd: i32, iovs: i32, iovs_len: i32, nread: i32) -> i32"
    );
}

/// docs/host-abi.md states the `vm_*` result codes as `ward_abi::vm`
/// defines them.
#[test]
fn host_abi_doc_states_the_vm_codes() {
    use super::vm;
    let doc = include_str!("../../../docs/host-abi.md").replace('\n', " ");
    for (name, value) in [
        ("INVALID_MODULE", vm::INVALID_MODULE),
        ("NOT_FOUND", vm::NOT_FOUND),
        ("INVALID_INSTANCE", vm::INVALID_INSTANCE),
        ("BAD_ARGUMENT", vm::BAD_ARGUMENT),
        ("OUT_OF_GAS", vm::OUT_OF_GAS),
        ("LIMIT_EXCEEDED", vm::LIMIT_EXCEEDED),
        ("UNAVAILABLE", vm::UNAVAILABLE),
        ("FINISHED", vm::FINISHED),
        ("SYSCALL", vm::SYSCALL),
        ("MAX_ARGS", i64::from(vm::MAX_ARGS)),
        ("STEP_BYTES", i64::from(vm::STEP_BYTES)),
        ("vm::STACK_UNITS", i64::from(vm::STACK_UNITS)),
        ("call::STACK_UNITS", i64::from(super::call::STACK_UNITS)),
    ] {
        let stated = std::format!("`{name}` ({value})");
        assert!(doc.contains(&stated), "docs/host-abi.md lacks {stated:?}");
    }
    assert!(doc.contains(&std::format!("({} - k)", vm::TRAPPED)));
    for (k, kind) in vm::TRAP_KINDS.iter().enumerate() {
        let stated = std::format!("{} `{kind}`", k + 1);
        if matches!(
            *kind,
            "unreachable" | "memory_out_of_bounds" | "stack_overflow" | "host_error"
        ) {
            assert!(doc.contains(&stated), "docs/host-abi.md lacks {stated:?}");
        }
    }
}
