use super::*;

#[test]
fn names_come_from_the_name_section_demangled() {
    let wasm = wat::parse_str(
        r#"(module
          (import "ward" "exit" (func $exit (param i32)))
          (func $_ZN6faults12split_evenly17h0123456789abcdefE)
          (func $plain)
          (func)
          (func (export "main"))
          (func $named (export "exported")))"#,
    )
    .unwrap();
    let symbols = Symbols::new(&wasm);
    assert_eq!(symbols.function_name(0), Some("exit"));
    assert_eq!(symbols.function_name(1), Some("faults::split_evenly"));
    assert_eq!(symbols.function_name(2), Some("plain"));
    assert_eq!(symbols.function_name(3), None);
    assert_eq!(symbols.describe(3), "func[3]");
    assert_eq!(symbols.function_name(4), Some("main"), "by its export");
    assert_eq!(
        symbols.function_name(5),
        Some("named"),
        "the name section first"
    );
    assert!(!symbols.has_lines());
    assert!(symbols.locate(40).is_empty(), "no DWARF, no lines");
}

#[test]
fn a_hash_is_dropped_only_where_it_is_one() {
    assert_eq!(without_hash("a::b::h0123456789abcdef"), "a::b");
    assert_eq!(without_hash("a::b::hello"), "a::b::hello");
    assert_eq!(without_hash("a::h0123456789abcdeg"), "a::h0123456789abcdeg");
    assert_eq!(demangle("not mangled"), "not mangled");
}

#[test]
fn damaged_modules_give_fewer_answers_and_never_fail() {
    let wasm = wat::parse_str(r#"(module (func $f) (func $g))"#).unwrap();
    assert_eq!(Symbols::new(&wasm).function_name(1), Some("g"));
    for cut in 0..wasm.len() {
        let symbols = Symbols::new(&wasm[..cut]);
        assert!(symbols.locate(u32::MAX).is_empty());
    }
    let mut flipped = wasm.clone();
    for i in 8..flipped.len() {
        flipped[i] ^= 0x5a;
        let _ = Symbols::new(&flipped).function_name(0);
        flipped[i] ^= 0x5a;
    }
    // DWARF sections that are not DWARF.
    let junk = wat::parse_str(
        r#"(module (func $f) (@custom ".debug_info" "\ff\ff\ff\ff\01") (@custom ".debug_line" "\00"))"#,
    )
    .unwrap();
    let symbols = Symbols::new(&junk);
    assert_eq!(symbols.function_name(0), Some("f"));
    assert!(symbols.locate(30).is_empty());
}

#[test]
fn a_position_says_what_is_known() {
    let frame = SourceFrame {
        function: Some("f".into()),
        file: Some("src/lib.rs".into()),
        line: Some(12),
        column: Some(9),
    };
    assert_eq!(frame.position().as_deref(), Some("src/lib.rs:12:9"));
    let no_column = SourceFrame {
        column: Some(0),
        ..frame.clone()
    };
    assert_eq!(no_column.position().as_deref(), Some("src/lib.rs:12"));
    assert_eq!(SourceFrame::default().position(), None);
}
