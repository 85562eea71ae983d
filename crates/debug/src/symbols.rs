//! What a module says about its own code: the names of its functions (the
//! `name` custom section) and the source lines of its instructions (DWARF
//! in `.debug_*` custom sections, as LLVM emits them for Wasm).
//!
//! DWARF for Wasm addresses code by its offset from the start of the code
//! section's contents; Ward's profiling hooks report offsets from the start
//! of the module, so [`Symbols::locate`] takes those and converts.

use std::{borrow::Cow, collections::BTreeMap, sync::Arc};

use wasmparser::{KnownCustom, Name, Parser, Payload};

/// The DWARF reader over section bytes the symbols own.
type Reader = gimli::EndianArcSlice<gimli::LittleEndian>;

/// A module's function names and, when it has DWARF, its line tables.
///
/// Reading them never fails: a module without a name section or debug
/// info, or with damaged ones, has fewer answers.
pub struct Symbols {
    names: BTreeMap<u32, String>,
    /// Where the code section's contents start in the module.
    code_start: Option<u64>,
    lines: Option<addr2line::Context<Reader>>,
}

impl std::fmt::Debug for Symbols {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Symbols")
            .field("names", &self.names.len())
            .field("code_start", &self.code_start)
            .field("lines", &self.lines.is_some())
            .finish()
    }
}

/// One source frame of an instruction: the function it is in, and where.
/// An instruction of a function inlined into another has a frame for each,
/// innermost first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceFrame {
    /// The function, demangled (without a Rust symbol's hash).
    pub function: Option<String>,
    /// The source file, as the compiler recorded it.
    pub file: Option<String>,
    /// The line (from 1).
    pub line: Option<u32>,
    /// The column (from 1).
    pub column: Option<u32>,
}

impl SourceFrame {
    /// `file:line:column`, as far as it is known (`None` without a file).
    pub fn position(&self) -> Option<String> {
        let file = self.file.as_deref()?;
        Some(match (self.line, self.column) {
            (Some(line), Some(column)) if column > 0 => format!("{file}:{line}:{column}"),
            (Some(line), _) => format!("{file}:{line}"),
            _ => file.to_owned(),
        })
    }
}

impl Symbols {
    /// The symbols of `wasm`.
    pub fn new(wasm: &[u8]) -> Symbols {
        let mut names = BTreeMap::new();
        let mut exported = BTreeMap::new();
        let mut code_start = None;
        let mut dwarf: BTreeMap<&str, &[u8]> = BTreeMap::new();
        for payload in Parser::new(0).parse_all(wasm) {
            // A damaged module keeps what was read before the damage.
            let Ok(payload) = payload else { break };
            match payload {
                Payload::CodeSectionStart { range, .. } => code_start = Some(range.start as u64),
                Payload::ExportSection(exports) => {
                    for export in exports.into_iter().map_while(Result::ok) {
                        if export.kind == wasmparser::ExternalKind::Func {
                            exported
                                .entry(export.index)
                                .or_insert(export.name.to_owned());
                        }
                    }
                }
                Payload::CustomSection(section) if section.name().starts_with(".debug_") => {
                    dwarf.insert(section.name(), section.data());
                }
                Payload::CustomSection(section) => {
                    if let KnownCustom::Name(reader) = section.as_known() {
                        read_names(reader, &mut names);
                    }
                }
                _ => {}
            }
        }
        // A function the name section does not name goes by its export's.
        for (index, name) in exported {
            names.entry(index).or_insert(name);
        }
        let lines = (!dwarf.is_empty() && code_start.is_some())
            .then(|| line_context(&dwarf))
            .flatten();
        Symbols {
            names,
            code_start,
            lines,
        }
    }

    /// The name of function `index` (imports included), demangled: from the
    /// name section, else its export's name.
    pub fn function_name(&self, index: u32) -> Option<&str> {
        self.names.get(&index).map(String::as_str)
    }

    /// Function `index`'s name, or `func[index]` when the module has none.
    pub fn describe(&self, index: u32) -> Cow<'_, str> {
        match self.function_name(index) {
            Some(name) => Cow::Borrowed(name),
            None => Cow::Owned(format!("func[{index}]")),
        }
    }

    /// Whether the module has DWARF line tables.
    pub fn has_lines(&self) -> bool {
        self.lines.is_some()
    }

    /// The source frames of the instruction at `offset` (from the start of
    /// the module), innermost first: empty without line tables or for an
    /// offset they do not cover.
    pub fn locate(&self, offset: u32) -> Vec<SourceFrame> {
        let (Some(lines), Some(start)) = (&self.lines, self.code_start) else {
            return Vec::new();
        };
        let Some(address) = u64::from(offset).checked_sub(start) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        // Split DWARF is never loaded: a module carries its own.
        let Ok(mut frames) = lines.find_frames(address).skip_all_loads() else {
            return out;
        };
        while let Ok(Some(frame)) = frames.next() {
            let function = frame
                .function
                .as_ref()
                .and_then(|f| f.demangle().ok())
                .map(|name| without_hash(&name).to_owned());
            let (file, line, column) = match &frame.location {
                Some(l) => (l.file.map(str::to_owned), l.line, l.column),
                None => (None, None, None),
            };
            out.push(SourceFrame {
                function,
                file,
                line,
                column,
            });
        }
        out
    }
}

/// Function names from a `name` section (demangled where they are Rust
/// symbols); a damaged subsection ends the reading.
fn read_names(reader: wasmparser::NameSectionReader<'_>, names: &mut BTreeMap<u32, String>) {
    for subsection in reader {
        let Ok(Name::Function(map)) = subsection else {
            continue;
        };
        for naming in map {
            let Ok(naming) = naming else { break };
            names.insert(naming.index, demangle(naming.name));
        }
    }
}

/// A Rust symbol demangled without its hash; any other name as it is.
fn demangle(name: &str) -> String {
    match rustc_demangle::try_demangle(name) {
        Ok(demangled) => format!("{demangled:#}"),
        Err(_) => without_hash(name).to_owned(),
    }
}

/// `path::name` without a trailing `::h0123456789abcdef` (a legacy Rust
/// symbol's hash, which the name section may keep after demangling).
fn without_hash(name: &str) -> &str {
    match name.rsplit_once("::h") {
        Some((path, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            path
        }
        _ => name,
    }
}

/// The line tables of the DWARF sections `sections` (by name), if they
/// parse.
fn line_context(sections: &BTreeMap<&str, &[u8]>) -> Option<addr2line::Context<Reader>> {
    let load = |id: gimli::SectionId| -> Result<Reader, gimli::Error> {
        let bytes: Arc<[u8]> = sections.get(id.name()).copied().unwrap_or(&[]).into();
        Ok(Reader::new(bytes, gimli::LittleEndian))
    };
    let dwarf = gimli::Dwarf::load(load).ok()?;
    addr2line::Context::from_dwarf(dwarf).ok()
}

#[cfg(test)]
mod tests;
