//! The profiling hooks ([`crate::PROFILE_MODULE`]): three imports added
//! after the module's own (every defined function moves up by
//! [`HOOKS`]), and the calls of them a profiled body makes.
//!
//! None of what is emitted here is charged: a profiled module charges
//! exactly what the same module without hooks charges, at the same
//! points, so a profile accounts for the gas of a real run.

use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    EntityType, Function, ImportSection, Instruction, SectionId, TypeSection, ValType,
};

use crate::{
    PROFILE_MODULE, PolicyError,
    analyze::{Analysis, Section},
};

use super::reencode_error;

/// How many hooks are imported.
pub(super) const HOOKS: u32 = 3;

/// The hooks' function indices in the emitted module, and their types.
pub(super) struct Hooks {
    pub(super) enter: u32,
    pub(super) leave: u32,
    pub(super) at: u32,
    /// `(i32, i64) -> ()`, of `enter` and `leave`.
    edge_type: u32,
    /// `(i32) -> ()`, of `at`.
    at_type: u32,
}

impl Hooks {
    /// Appends the hooks' types to `types`; the hooks follow the module's
    /// `imported_funcs` imports.
    pub(super) fn add_types(types: &mut TypeSection, imported_funcs: u32) -> Hooks {
        let edge_type = types.len();
        types.ty().function([ValType::I32, ValType::I64], []);
        types.ty().function([ValType::I32], []);
        Hooks {
            enter: imported_funcs,
            leave: imported_funcs + 1,
            at: imported_funcs + 2,
            edge_type,
            at_type: edge_type + 1,
        }
    }

    /// The import section: the module's imports, then the hooks.
    pub(super) fn imports(&self, a: &Analysis<'_>) -> Result<ImportSection, PolicyError> {
        let mut imports = ImportSection::new();
        for section in &a.sections {
            if let Section::Raw(id, data) = section
                && *id == SectionId::Import as u8
            {
                let reader =
                    wasmparser::ImportSectionReader::new(wasmparser::BinaryReader::new(data, 0))
                        .map_err(crate::invalid)?;
                RoundtripReencoder
                    .parse_import_section(&mut imports, reader)
                    .map_err(reencode_error)?;
            }
        }
        imports.import(
            PROFILE_MODULE,
            "enter",
            EntityType::Function(self.edge_type),
        );
        imports.import(
            PROFILE_MODULE,
            "leave",
            EntityType::Function(self.edge_type),
        );
        imports.import(PROFILE_MODULE, "at", EntityType::Function(self.at_type));
        Ok(imports)
    }

    /// `enter(func, gas)` or `leave(func, gas)`: the gas left from local
    /// `gas` when engine-metered, else -1.
    pub(super) fn edge(&self, func: &mut Function, hook: u32, f: u32, gas: Option<u32>) {
        func.instruction(&Instruction::I32Const(f as i32));
        match gas {
            Some(local) => func.instruction(&Instruction::LocalGet(local)),
            None => func.instruction(&Instruction::I64Const(-1)),
        };
        func.instruction(&Instruction::Call(hook));
    }

    /// `at(offset)`, before a call at `offset` in the original module.
    pub(super) fn at(&self, func: &mut Function, offset: usize) {
        func.instruction(&Instruction::I32Const(offset as i32))
            .instruction(&Instruction::Call(self.at));
    }
}
