//! The CLI's modules import one way: no circle among them (a test over
//! every `crate::` path in `bins/cli/src`). What the chain commands share
//! (`common`: options, the data directory, senders, signers, payments)
//! and how receipts print (`print`) stand below the commands on a data
//! directory (`chain`), on a node (`remote`) and traces (`trace`).

use std::path::Path;

use ward_testkit::imports::{circle, graph};

#[test]
fn the_clis_modules_import_one_way() {
    let graph = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph.len() > 15, "found the modules: {graph:?}");
    assert!(graph["chain"].contains("remote"), "{graph:?}");
    assert!(graph["remote"].contains("common"), "{graph:?}");
    assert_eq!(circle(&graph), None, "{graph:#?}");
    for shared in ["common", "print"] {
        for command in ["chain", "remote", "trace"] {
            assert!(
                !graph[shared].contains(command),
                "{shared} imports {command}"
            );
        }
    }
}
