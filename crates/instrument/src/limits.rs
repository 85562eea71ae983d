//! The limits a module is checked against, each a consensus value.

/// The limits a module is checked against. Each is a consensus value, named
/// in the error when exceeded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Largest module accepted, in bytes. Default: 4 MiB.
    pub max_module_bytes: u64,
    /// Largest instrumented module, in bytes. Default: 16 MiB.
    pub max_instrumented_bytes: u64,
    /// Largest linear memory, in 64 KiB pages: a module declaring more
    /// initial pages is rejected, and `memory.grow` past it returns -1.
    /// Default: 256 pages (16 MiB).
    pub max_memory_pages: u32,
    /// Largest table, in elements: a module declaring more initial elements
    /// is rejected, and `table.grow` past it returns -1. Default: 10 000.
    pub max_table_elements: u32,
    /// Type-section entries. Default: 1 000.
    pub max_types: u32,
    /// Functions (declared and bodies). Default: 10 000.
    pub max_functions: u32,
    /// Imports. Default: 100.
    pub max_imports: u32,
    /// Exports. Default: 1 000.
    pub max_exports: u32,
    /// Globals. Default: 1 000.
    pub max_globals: u32,
    /// Tables. Default: 8.
    pub max_tables: u32,
    /// Data segments. Default: 1 000.
    pub max_data_segments: u32,
    /// Element segments. Default: 1 000.
    pub max_element_segments: u32,
    /// Total bytes of all data segments. Default: 1 MiB.
    pub max_data_bytes: u64,
    /// Parameters of one function type. Default: 32. At most 998 is
    /// enforced whatever the value (the instrumentation adds two).
    pub max_params: u32,
    /// Results of one function type. Default: 8. At most 999 is enforced
    /// whatever the value (the instrumentation adds one).
    pub max_results: u32,
    /// Parameters plus locals of one function. Default: 1 024.
    pub max_locals: u32,
    /// Parameters plus locals summed over all functions. Default: 65 536.
    pub max_total_locals: u64,
    /// Bytes of one function body. Default: 256 KiB.
    pub max_body_bytes: u32,
    /// Nesting depth of blocks, loops and ifs. Default: 256.
    pub max_nesting_depth: u32,
    /// Targets of one `br_table`. Default: 4 096.
    pub max_br_table_targets: u32,
    /// Stack units available to a call: each active frame costs
    /// `1 + params + locals + peak operand stack height` (plus its thunk's
    /// own frame when entered from outside). Default: 32 768.
    pub max_stack_units: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_module_bytes: 4 * 1024 * 1024,
            max_instrumented_bytes: 16 * 1024 * 1024,
            max_memory_pages: 256,
            max_table_elements: 10_000,
            max_types: 1_000,
            max_functions: 10_000,
            max_imports: 100,
            max_exports: 1_000,
            max_globals: 1_000,
            max_tables: 8,
            max_data_segments: 1_000,
            max_element_segments: 1_000,
            max_data_bytes: 1024 * 1024,
            max_params: 32,
            max_results: 8,
            max_locals: 1_024,
            max_total_locals: 65_536,
            max_body_bytes: 256 * 1024,
            max_nesting_depth: 256,
            max_br_table_targets: 4_096,
            max_stack_units: 32_768,
        }
    }
}

impl Limits {
    /// The limits' names, in the order of [`Limits::entries`].
    pub const NAMES: [&'static str; 21] = [
        "max_module_bytes",
        "max_instrumented_bytes",
        "max_memory_pages",
        "max_table_elements",
        "max_types",
        "max_functions",
        "max_imports",
        "max_exports",
        "max_globals",
        "max_tables",
        "max_data_segments",
        "max_element_segments",
        "max_data_bytes",
        "max_params",
        "max_results",
        "max_locals",
        "max_total_locals",
        "max_body_bytes",
        "max_nesting_depth",
        "max_br_table_targets",
        "max_stack_units",
    ];

    /// Every limit, in declaration order, widened to 64 bits. Destructures
    /// exhaustively so that no limit can be left out of the fingerprint.
    pub fn entries(&self) -> [u64; 21] {
        let Limits {
            max_module_bytes,
            max_instrumented_bytes,
            max_memory_pages,
            max_table_elements,
            max_types,
            max_functions,
            max_imports,
            max_exports,
            max_globals,
            max_tables,
            max_data_segments,
            max_element_segments,
            max_data_bytes,
            max_params,
            max_results,
            max_locals,
            max_total_locals,
            max_body_bytes,
            max_nesting_depth,
            max_br_table_targets,
            max_stack_units,
        } = *self;
        [
            max_module_bytes,
            max_instrumented_bytes,
            u64::from(max_memory_pages),
            u64::from(max_table_elements),
            u64::from(max_types),
            u64::from(max_functions),
            u64::from(max_imports),
            u64::from(max_exports),
            u64::from(max_globals),
            u64::from(max_tables),
            u64::from(max_data_segments),
            u64::from(max_element_segments),
            max_data_bytes,
            u64::from(max_params),
            u64::from(max_results),
            u64::from(max_locals),
            max_total_locals,
            u64::from(max_body_bytes),
            u64::from(max_nesting_depth),
            u64::from(max_br_table_targets),
            u64::from(max_stack_units),
        ]
    }

    /// Limits as large as WebAssembly itself allows, for running trusted
    /// test suites. Never for untrusted code. The stack limit stays finite.
    pub fn unbounded() -> Self {
        Limits {
            max_module_bytes: u64::MAX,
            max_instrumented_bytes: u64::MAX,
            max_memory_pages: 65_536,
            max_table_elements: u32::MAX,
            max_types: u32::MAX,
            max_functions: u32::MAX,
            max_imports: u32::MAX,
            max_exports: u32::MAX,
            max_globals: u32::MAX,
            max_tables: u32::MAX,
            max_data_segments: u32::MAX,
            max_element_segments: u32::MAX,
            max_data_bytes: u64::MAX,
            max_params: u32::MAX,
            max_results: u32::MAX,
            max_locals: u32::MAX,
            max_total_locals: u64::MAX,
            max_body_bytes: u32::MAX,
            max_nesting_depth: u32::MAX,
            max_br_table_targets: u32::MAX,
            max_stack_units: 32_768,
        }
    }
}
