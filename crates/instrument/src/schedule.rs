//! The cost schedule: what every instruction and host call costs in gas.
//!
//! One table, versioned. A change to any number here changes consensus: bump
//! [`SCHEDULE_VERSION`], and caches keyed on it recompile. The schedule is
//! written out in `docs/gas.md`; a test checks the two agree.
//!
//! Calibration: one gas is meant to be about a nanosecond of wasmtime time on
//! the reference machine for simple integer work. Costs only ever grow from
//! the base, and only structure is free: every instruction Ward enables has
//! its class in one table (the `ops` module), which a new instruction
//! cannot compile without.

use wasmparser::Operator;

use crate::ops::{self, Cost};

/// Version of the schedule. Part of every cache key and config fingerprint.
pub const SCHEDULE_VERSION: u32 = 7;

/// What a module declares that making an instance of it costs: counted
/// in the module as deployed (before instrumentation), defined items only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct InstanceShape {
    /// Initial pages of its memories.
    pub pages: u64,
    /// Initial elements of its tables.
    pub table_elements: u64,
    /// Functions it defines.
    pub functions: u64,
    /// Globals it defines.
    pub globals: u64,
    /// Items of its element segments.
    pub element_items: u64,
}

/// Gas per instruction, per class. All values are small (below 2^16), so
/// sums and products with 32-bit operands can never overflow 64 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CostSchedule {
    /// Constants, locals, globals, integer add/sub/logic/compare, select,
    /// drop, `if`, `br`, `br_if`, `return`: the floor every instruction
    /// that does work pays.
    pub base: u32,
    /// Integer multiply.
    pub int_mul: u32,
    /// Integer divide and remainder.
    pub int_div: u32,
    /// Float add/sub/mul, compare, min/max, abs/neg/copysign, conversions.
    pub float: u32,
    /// Float divide and square root.
    pub float_div: u32,
    /// Memory load or store.
    pub memory_access: u32,
    /// `br_table`.
    pub br_table: u32,
    /// `call` (callee's own instructions are charged separately).
    pub call: u32,
    /// `call_indirect`.
    pub call_indirect: u32,
    /// `memory.size`, `table.size`, `table.get`, `table.set`, `ref.*`.
    pub table_access: u32,
    /// `memory.grow` / `table.grow`: charged before the attempt.
    pub grow_base: u32,
    /// `memory.grow`: per 64 KiB page actually granted.
    pub grow_per_page: u32,
    /// `table.grow`: per element actually granted.
    pub grow_per_element: u32,
    /// Bulk memory and table operations (`*.fill`, `*.copy`, `*.init`): fixed part.
    pub bulk_base: u32,
    /// Bulk memory operations: per 64 bytes (rounded up) of length.
    pub bulk_per_64_bytes: u32,
    /// Bulk table operations: per element of length.
    pub bulk_per_element: u32,
    /// `data.drop`, `elem.drop`.
    pub segment_drop: u32,
    /// Every host call: fixed part.
    pub host_call: u32,
    /// Host calls that move bytes (input, output, logs): per byte.
    pub host_per_byte: u32,
    /// `storage_read`, on top of `host_call`: a lookup in the state store.
    pub storage_read: u32,
    /// `storage_write` / `storage_remove`, on top of `host_call`: a write
    /// that persists.
    pub storage_write: u32,
    /// Per byte of key and value a storage call moves.
    pub storage_per_byte: u32,
    /// `emit_event`, on top of `host_call`.
    pub event: u32,
    /// Per byte of topic and data.
    pub event_per_byte: u32,
    /// The hash functions, per 64 bytes hashed (rounded up), on top of
    /// `host_call`.
    pub hash_per_64_bytes: u32,
    /// `verify_ed25519`, on top of `host_call` (plus `hash_per_64_bytes`
    /// for the message).
    pub verify_ed25519: u32,
    /// `recover_secp256k1`, on top of `host_call`.
    pub recover_secp256k1: u32,
    /// `bn254_add`, on top of `host_call`.
    pub bn254_add: u32,
    /// `bn254_mul`, on top of `host_call`.
    pub bn254_mul: u32,
    /// `bn254_pairing`, on top of `host_call` (plus
    /// `bn254_pairing_per_64_bytes` for the pairs).
    pub bn254_pairing: u32,
    /// `bn254_pairing`'s pairs, per 64 bytes (a pair is 3).
    pub bn254_pairing_per_64_bytes: u32,
    /// A deploy transaction, charged before the code is even validated.
    pub deploy_base: u32,
    /// Per byte of a deployed module, charged with `deploy_base`: pays for
    /// validation, instrumentation, compilation (about 1 µs a byte on
    /// wasmtime, `ward-bench`'s `compile_1mb`) and storing the code.
    pub deploy_per_byte: u32,
    /// Every transaction, before anything else: admitting, hashing and
    /// recording it in a block and its receipt.
    pub tx_base: u32,
    /// Per byte of a transaction's encoding, charged with `tx_base`: the
    /// block keeps the whole transaction forever.
    pub tx_per_byte: u32,
    /// Every instance a call, a child or a system runtime's frame runs
    /// in, charged before it is made: creating or recycling it, entering
    /// and leaving the frame.
    pub instance_base: u32,
    /// Per initial 64 KiB page of the instance's memory: a new instance's
    /// memory is mapped and zeroed, a recycled one's rewritten from its
    /// image.
    pub instance_per_page: u32,
    /// Per initial element of the instance's tables.
    pub instance_per_table_element: u32,
    /// Per function the module defines.
    pub instance_per_function: u32,
    /// Per global the module defines.
    pub instance_per_global: u32,
    /// Per item of the module's element segments.
    pub instance_per_element: u32,
}

impl Default for CostSchedule {
    fn default() -> Self {
        CostSchedule {
            base: 1,
            int_mul: 2,
            int_div: 8,
            float: 2,
            float_div: 8,
            memory_access: 2,
            br_table: 4,
            call: 4,
            call_indirect: 8,
            table_access: 2,
            grow_base: 1_000,
            grow_per_page: 2_000,
            grow_per_element: 4,
            bulk_base: 20,
            bulk_per_64_bytes: 4,
            bulk_per_element: 2,
            segment_drop: 10,
            host_call: 50,
            host_per_byte: 1,
            storage_read: 1_500,
            storage_write: 5_000,
            storage_per_byte: 2,
            event: 1_000,
            event_per_byte: 1,
            hash_per_64_bytes: 150,
            verify_ed25519: 50_000,
            recover_secp256k1: 50_000,
            bn254_add: 6_000,
            bn254_mul: 200_000,
            bn254_pairing: 1_500_000,
            bn254_pairing_per_64_bytes: 450_000,
            deploy_base: 10_000,
            deploy_per_byte: 1_000,
            tx_base: 5_000,
            tx_per_byte: 10,
            instance_base: 4_000,
            instance_per_page: 1_000,
            instance_per_table_element: 1,
            instance_per_function: 5,
            instance_per_global: 10,
            instance_per_element: 5,
        }
    }
}

impl CostSchedule {
    /// The static cost of one instruction. Dynamic parts (bulk lengths,
    /// pages granted) are charged separately at run time.
    pub fn cost_of(&self, op: &Operator<'_>) -> u32 {
        self.cost(ops::class(op).cost)
    }

    /// The entry a class of instructions pays.
    pub(crate) fn cost(&self, cost: Cost) -> u32 {
        match cost {
            // Pure structure compiles to no work of its own. A loop still
            // cannot spin for free: going round takes a branch.
            Cost::Free => 0,
            Cost::Base => self.base,
            Cost::IntMul => self.int_mul,
            Cost::IntDiv => self.int_div,
            Cost::Float => self.float,
            Cost::FloatDiv => self.float_div,
            Cost::MemoryAccess => self.memory_access,
            Cost::BrTable => self.br_table,
            Cost::Call => self.call,
            Cost::CallIndirect => self.call_indirect,
            Cost::TableAccess => self.table_access,
            Cost::Grow => self.grow_base,
            Cost::Bulk => self.bulk_base,
            Cost::SegmentDrop => self.segment_drop,
        }
    }

    /// Every cost by name, in declaration order. Destructures the schedule
    /// exhaustively, so a new field cannot be left out of `docs/gas.md`,
    /// fingerprints or tests.
    pub fn entries(&self) -> [(&'static str, u32); 41] {
        let CostSchedule {
            base,
            int_mul,
            int_div,
            float,
            float_div,
            memory_access,
            br_table,
            call,
            call_indirect,
            table_access,
            grow_base,
            grow_per_page,
            grow_per_element,
            bulk_base,
            bulk_per_64_bytes,
            bulk_per_element,
            segment_drop,
            host_call,
            host_per_byte,
            storage_read,
            storage_write,
            storage_per_byte,
            event,
            event_per_byte,
            hash_per_64_bytes,
            verify_ed25519,
            recover_secp256k1,
            bn254_add,
            bn254_mul,
            bn254_pairing,
            bn254_pairing_per_64_bytes,
            deploy_base,
            deploy_per_byte,
            tx_base,
            tx_per_byte,
            instance_base,
            instance_per_page,
            instance_per_table_element,
            instance_per_function,
            instance_per_global,
            instance_per_element,
        } = *self;
        [
            ("base", base),
            ("int_mul", int_mul),
            ("int_div", int_div),
            ("float", float),
            ("float_div", float_div),
            ("memory_access", memory_access),
            ("br_table", br_table),
            ("call", call),
            ("call_indirect", call_indirect),
            ("table_access", table_access),
            ("grow_base", grow_base),
            ("grow_per_page", grow_per_page),
            ("grow_per_element", grow_per_element),
            ("bulk_base", bulk_base),
            ("bulk_per_64_bytes", bulk_per_64_bytes),
            ("bulk_per_element", bulk_per_element),
            ("segment_drop", segment_drop),
            ("host_call", host_call),
            ("host_per_byte", host_per_byte),
            ("storage_read", storage_read),
            ("storage_write", storage_write),
            ("storage_per_byte", storage_per_byte),
            ("event", event),
            ("event_per_byte", event_per_byte),
            ("hash_per_64_bytes", hash_per_64_bytes),
            ("verify_ed25519", verify_ed25519),
            ("recover_secp256k1", recover_secp256k1),
            ("bn254_add", bn254_add),
            ("bn254_mul", bn254_mul),
            ("bn254_pairing", bn254_pairing),
            ("bn254_pairing_per_64_bytes", bn254_pairing_per_64_bytes),
            ("deploy_base", deploy_base),
            ("deploy_per_byte", deploy_per_byte),
            ("tx_base", tx_base),
            ("tx_per_byte", tx_per_byte),
            ("instance_base", instance_base),
            ("instance_per_page", instance_per_page),
            ("instance_per_table_element", instance_per_table_element),
            ("instance_per_function", instance_per_function),
            ("instance_per_global", instance_per_global),
            ("instance_per_element", instance_per_element),
        ]
    }

    /// What making an instance of a module of `shape` costs (`docs/gas.md`):
    /// `instance_base` plus each rate times what the module declares,
    /// saturating.
    pub fn instance_cost(&self, shape: &InstanceShape) -> u64 {
        let per = |rate: u32, count: u64| u64::from(rate).saturating_mul(count);
        u64::from(self.instance_base)
            .saturating_add(per(self.instance_per_page, shape.pages))
            .saturating_add(per(self.instance_per_table_element, shape.table_elements))
            .saturating_add(per(self.instance_per_function, shape.functions))
            .saturating_add(per(self.instance_per_global, shape.globals))
            .saturating_add(per(self.instance_per_element, shape.element_items))
    }

    /// What deploying a module of `bytes` bytes costs before anything runs:
    /// `deploy_base + deploy_per_byte * bytes`, saturating.
    pub fn deploy_cost(&self, bytes: u64) -> u64 {
        u64::from(self.deploy_base)
            .saturating_add(u64::from(self.deploy_per_byte).saturating_mul(bytes))
    }

    /// What a transaction of `bytes` encoded bytes pays before anything
    /// runs: `tx_base + tx_per_byte * bytes`, saturating.
    pub fn intrinsic_cost(&self, bytes: u64) -> u64 {
        u64::from(self.tx_base).saturating_add(u64::from(self.tx_per_byte).saturating_mul(bytes))
    }

    /// The value of a host-function rate named by the ABI table.
    pub fn rate(&self, rate: ward_abi::Rate) -> u32 {
        use ward_abi::Rate;
        match rate {
            Rate::HostPerByte => self.host_per_byte,
            Rate::StorageRead => self.storage_read,
            Rate::StorageWrite => self.storage_write,
            Rate::StoragePerByte => self.storage_per_byte,
            Rate::Event => self.event,
            Rate::EventPerByte => self.event_per_byte,
            Rate::HashPer64Bytes => self.hash_per_64_bytes,
            Rate::VerifyEd25519 => self.verify_ed25519,
            Rate::RecoverSecp256k1 => self.recover_secp256k1,
            Rate::Bn254Add => self.bn254_add,
            Rate::Bn254Mul => self.bn254_mul,
            Rate::Bn254Pairing => self.bn254_pairing,
            Rate::Bn254PairingPer64Bytes => self.bn254_pairing_per_64_bytes,
            Rate::DeployBase => self.deploy_base,
            Rate::DeployPerByte => self.deploy_per_byte,
            // A rate this schedule does not know costs as much as the
            // dearest one it does: never nothing.
            _ => self.verify_ed25519,
        }
    }
}
