use super::{Class, Cost, Dynamic, FloatUse, Flow, enabled};
use crate::CostSchedule;

/// The schedule entry a class pays, as docs/gas.md names it.
fn entry(cost: Cost) -> &'static str {
    match cost {
        Cost::Free => "(structure)",
        Cost::Base => "base",
        Cost::IntMul => "int_mul",
        Cost::IntDiv => "int_div",
        Cost::Float => "float",
        Cost::FloatDiv => "float_div",
        Cost::MemoryAccess => "memory_access",
        Cost::BrTable => "br_table",
        Cost::Call => "call",
        Cost::CallIndirect => "call_indirect",
        Cost::TableAccess => "table_access",
        Cost::Grow => "grow_base",
        Cost::Bulk => "bulk_base",
        Cost::SegmentDrop => "segment_drop",
    }
}

/// What an instruction pays beyond its static cost, and what the float
/// policy does with it.
fn notes(class: &Class) -> String {
    let mut notes = Vec::new();
    match class.dynamic {
        Dynamic::None => {}
        Dynamic::MemoryBulk => notes.push("+ `bulk_per_64_bytes` per 64 bytes of length"),
        Dynamic::TableBulk => notes.push("+ `bulk_per_element` per element of length"),
        Dynamic::MemoryGrow => notes.push("+ `grow_per_page` per page granted"),
        Dynamic::TableGrow => notes.push("+ `grow_per_element` per element granted"),
    }
    match class.float {
        FloatUse::None => {}
        FloatUse::Moves | FloatUse::Compares | FloatUse::ToInt => notes.push("float"),
        FloatUse::Nan(_) => notes.push("float; NaN result canonicalised"),
        FloatUse::LaneNan => notes.push("float; refused while NaNs are canonicalised"),
    }
    notes.join("; ")
}

/// docs/instructions.md: every instruction Ward enables and what it costs.
fn render() -> String {
    let schedule = CostSchedule::default();
    let mut out = String::from(
        "# What every instruction costs\n\n\
         Rendered from the instrumentation's classification\n\
         (`crates/instrument/src/ops/table.rs`) by a test;\n\
         `BLESS=1 cargo test -p ward-instrument` rewrites it. Gas is the static\n\
         cost in the default schedule, charged with the instruction's metered\n\
         segment (see `docs/gas.md`); \"float\" marks what `FloatPolicy::Reject`\n\
         refuses. Instructions of proposals outside Ward's feature set are\n\
         refused by validation and are not listed; SIMD is off unless a policy\n\
         enables it.\n",
    );
    let mut proposal = "";
    for (p, name, class) in enabled() {
        if p != proposal {
            proposal = p;
            out.push_str(&format!(
                "\n## `{p}`\n\n| instruction | pays | gas | also |\n|---|---|---|---|\n"
            ));
        }
        out.push_str(&format!(
            "| `{name}` | `{}` | {} | {} |\n",
            entry(class.cost),
            schedule.cost(class.cost),
            notes(&class)
        ));
    }
    out
}

#[test]
fn instructions_doc_is_the_rendered_classification() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/instructions.md");
    let rendered = render();
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(path, &rendered).unwrap();
        return;
    }
    let doc = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        doc == rendered,
        "docs/instructions.md is stale: BLESS=1 cargo test -p ward-instrument"
    );
}

#[test]
fn every_enabled_instruction_costs_something_but_structure() {
    let all = enabled();
    // The MVP, sign extension, non-trapping float-to-int, bulk memory,
    // reference types and SIMD as wasmparser lists them.
    assert_eq!(all.len(), 172 + 5 + 8 + 7 + 10 + 236);
    let schedule = CostSchedule::default();
    for (_, name, class) in &all {
        let free = ["nop", "block", "loop", "else", "end"].contains(&name.as_str());
        assert_eq!(class.cost == Cost::Free, free, "{name}");
        assert_eq!(schedule.cost(class.cost) == 0, free, "{name}");
        assert_ne!(class.flow, Flow::Refused, "{name}");
    }
}

#[test]
fn like_instructions_are_classed_alike() {
    let class_of = |wanted: &str| {
        enabled()
            .into_iter()
            .find(|(_, name, _)| name == wanted)
            .map(|(_, _, class)| class)
            .unwrap()
    };
    // A vector load or store costs what a scalar one does.
    for name in [
        "v128.load",
        "v128.store",
        "v128.load8_lane",
        "v128.load32_zero",
    ] {
        assert_eq!(class_of(name).cost, Cost::MemoryAccess, "{name}");
    }
    assert_eq!(class_of("i32.load").cost, Cost::MemoryAccess);
    // Lane float arithmetic is float arithmetic.
    assert_eq!(class_of("f32x4.div").cost, class_of("f32.div").cost);
    assert_eq!(class_of("f64x2.mul").cost, class_of("f64.mul").cost);
    assert_eq!(class_of("i32x4.mul").cost, class_of("i32.mul").cost);
    // Everything that writes a table or drops a segment says so.
    for name in [
        "table.set",
        "table.grow",
        "table.fill",
        "table.copy",
        "table.init",
    ] {
        assert!(class_of(name).writes_tables, "{name}");
    }
    assert!(class_of("elem.drop").writes_tables);
    assert!(class_of("data.drop").writes_tables);
    assert!(!class_of("table.get").writes_tables);
}

#[test]
fn every_store_and_only_stores_say_what_they_write() {
    for (_, name, class) in enabled() {
        let is_store = name.contains(".store");
        assert_eq!(class.store.is_some(), is_store, "{name}");
        let Some(store) = class.store else { continue };
        // The width in the name, when it has one (`i64.store16`,
        // `v128.store8_lane`), else the value's own.
        let digits: String = name
            .split_once(".store")
            .map(|(_, rest)| rest.chars().take_while(char::is_ascii_digit).collect())
            .unwrap_or_default();
        let bits = match (digits.parse::<u32>().ok(), &name[..3]) {
            (Some(bits), _) => bits,
            (None, "i32" | "f32") => 32,
            (None, "i64" | "f64") => 64,
            (None, _) => 128,
        };
        assert_eq!(u32::from(store.bytes) * 8, bits, "{name}");
    }
}
