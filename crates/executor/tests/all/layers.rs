//! The executor's modules import one way: no circle among them (a test
//! over every `crate::` path in `crates/executor/src`). The crate's root
//! holds the `Executor` itself, which every stage extends with its own
//! `impl` block: the block runner (`block`, `parallel`, `pipeline`), the
//! reader (`query`, `estimate`, `replay`), the frames (`calls`, `create`,
//! `deploy`, `admin`, `frame`), and the recorder (`trace`), which names
//! neither frames nor blocks.

use std::path::Path;

use ward_testkit::imports::{circle, graph};

#[test]
fn the_executors_modules_import_one_way() {
    let graph = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph.len() > 15, "found the modules: {graph:?}");
    // The parser sees what it must: a block's transactions are traced,
    // a replay runs blocks, frames record into the trace.
    assert!(graph["block"].contains("trace"), "{graph:?}");
    assert!(graph["replay"].contains("block"), "{graph:?}");
    assert!(graph["frame"].contains("trace"), "{graph:?}");
    assert_eq!(circle(&graph), None, "{graph:#?}");
    // The recorder stands below the frames and the blocks it records.
    for below in ["frame", "calls", "block", "replay", "pipeline"] {
        assert!(!graph["trace"].contains(below), "trace imports {below}");
    }
}
