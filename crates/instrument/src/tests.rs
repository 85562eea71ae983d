use super::{Features, Limits, Metering, Policy, PolicyError, prepare};

fn check(wasm: &[u8], limits: &Limits) -> Result<(), PolicyError> {
    let policy = Policy {
        limits: *limits,
        metering: Metering::None,
        ..Policy::default()
    };
    prepare(wasm, &policy).map(drop)
}

fn validate(wasm: &[u8], features: Features, limits: &Limits) -> Result<(), PolicyError> {
    let policy = Policy {
        features,
        limits: *limits,
        ..Policy::default()
    };
    prepare(wasm, &policy).map(drop)
}

/// `(module (memory N))` and `(module (table N funcref))` in binary.
fn memory_module(pages: u8) -> Vec<u8> {
    vec![0, b'a', b's', b'm', 1, 0, 0, 0, 5, 3, 1, 0, pages]
}

fn table_module(elements: u8) -> Vec<u8> {
    vec![0, b'a', b's', b'm', 1, 0, 0, 0, 4, 4, 1, 0x70, 0, elements]
}

#[test]
fn accepts_a_module_within_limits() {
    assert_eq!(check(&memory_module(1), &Limits::default()), Ok(()));
    assert_eq!(check(&table_module(5), &Limits::default()), Ok(()));
}

#[test]
fn rejects_initial_memory_above_limit_naming_it() {
    let limits = Limits {
        max_memory_pages: 2,
        ..Limits::default()
    };
    assert_eq!(
        check(&memory_module(3), &limits),
        Err(PolicyError::LimitExceeded {
            limit: "max_memory_pages",
            value: 2,
            found: 3
        })
    );
}

#[test]
fn rejects_initial_table_above_limit() {
    let limits = Limits {
        max_table_elements: 4,
        ..Limits::default()
    };
    assert!(matches!(
        check(&table_module(5), &limits),
        Err(PolicyError::LimitExceeded {
            limit: "max_table_elements",
            value: 4,
            found: 5
        })
    ));
}

#[test]
fn rejects_oversized_module_before_parsing() {
    let limits = Limits {
        max_module_bytes: 8,
        ..Limits::default()
    };
    let err = check(&memory_module(1), &limits).unwrap_err();
    assert!(matches!(
        err,
        PolicyError::LimitExceeded {
            limit: "max_module_bytes",
            found: 13,
            ..
        }
    ));
}

#[test]
fn garbage_is_invalid_not_a_panic() {
    for bytes in [
        &b""[..],
        b"\0asm",
        b"garbage!",
        &[0, b'a', b's', b'm', 1, 0, 0, 0, 5, 200],
    ] {
        assert!(matches!(
            check(bytes, &Limits::default()),
            Err(PolicyError::Invalid { .. })
        ));
    }
}

/// `(module (func (result i32) i32.const 0 i32.const 0 i32.add))` with the
/// body's `i32.add` (0x6a) patched by the caller.
fn one_func_module(body: &[u8]) -> Vec<u8> {
    let mut m = vec![0, b'a', b's', b'm', 1, 0, 0, 0];
    m.extend([1, 5, 1, 0x60, 0, 1, 0x7f]); // type section: [] -> [i32]
    m.extend([3, 2, 1, 0]); // function section
    let mut code = vec![0]; // no locals
    code.extend(body);
    code.push(0x0b);
    m.extend([10, code.len() as u8 + 2, 1, code.len() as u8]);
    m.extend(code);
    m
}

#[test]
fn validation_accepts_wasm2_and_refuses_simd_as_unsupported() {
    let ok = one_func_module(&[0x41, 0, 0x41, 0, 0x6a]);
    assert_eq!(
        validate(&ok, Features::default(), &Limits::default()),
        Ok(())
    );
    // v128.const 0; i32x4.extract_lane 0
    let mut simd_body = vec![0xfd, 12];
    simd_body.extend([0u8; 16]);
    simd_body.extend([0xfd, 27, 0]);
    let simd = one_func_module(&simd_body);
    assert!(matches!(
        validate(&simd, Features::default(), &Limits::default()),
        Err(PolicyError::UnsupportedFeature { .. })
    ));
    assert_eq!(
        validate(&simd, Features { simd: true }, &Limits::default()),
        Ok(())
    );
}

#[test]
fn validation_refuses_type_errors_as_invalid() {
    // i32.const 0; i64.const 0; i32.add: a type error under every feature set.
    let bad = one_func_module(&[0x41, 0, 0x42, 0, 0x6a]);
    assert!(matches!(
        validate(&bad, Features::default(), &Limits::default()),
        Err(PolicyError::Invalid { .. })
    ));
}

#[test]
fn gas_doc_lists_every_cost_of_the_schedule() {
    let doc = include_str!("../../../docs/gas.md");
    assert!(doc.contains(&format!("version {}", crate::SCHEDULE_VERSION)));
    for (name, cost) in crate::CostSchedule::default().entries() {
        let row = format!("| `{name}` | {cost} |");
        assert!(doc.contains(&row), "docs/gas.md lacks the row {row}");
    }
}

/// docs/host-abi.md states the schedule version and every rate the ABI
/// table's formulas name, with their values.
#[test]
fn host_abi_doc_states_the_rates_of_the_schedule() {
    let doc = include_str!("../../../docs/host-abi.md").replace('\n', " ");
    let schedule = crate::CostSchedule::default();
    let version = format!("in schedule version {}", crate::SCHEDULE_VERSION);
    assert!(doc.contains(&version), "docs/host-abi.md lacks {version:?}");
    let mut rates: Vec<(&str, u32)> = vec![("host_call", schedule.host_call)];
    for f in ward_abi::HostFn::ALL {
        let cost = f.cost();
        let named = cost
            .fixed
            .into_iter()
            .chain(cost.terms.iter().map(|t| t.rate));
        for rate in named {
            if !rates.iter().any(|(name, _)| *name == rate.name()) {
                rates.push((rate.name(), schedule.rate(rate)));
            }
        }
    }
    for (name, value) in rates {
        let stated = format!("`{name}` = {value}");
        assert!(doc.contains(&stated), "docs/host-abi.md lacks {stated:?}");
    }
}

#[test]
fn canonical_policy_bytes_change_with_every_field() {
    let base = Policy::default();
    let bytes = base.canonical_bytes();
    assert_eq!(bytes, Policy::default().canonical_bytes());
    let mut changed = Vec::new();
    let mut p = base.clone();
    p.features.simd = true;
    changed.push(p);
    let mut p = base.clone();
    p.metering = Metering::SelfMetered;
    changed.push(p);
    let mut p = base.clone();
    p.floats = crate::FloatPolicy::Reject;
    changed.push(p);
    let mut p = base.clone();
    p.limits.max_stack_units += 1;
    changed.push(p);
    let mut p = base.clone();
    p.limits.max_module_bytes += 1;
    changed.push(p);
    let mut p = base.clone();
    p.schedule.host_per_byte += 1;
    changed.push(p);
    for p in changed {
        assert_ne!(p.canonical_bytes(), bytes, "{p:?}");
    }
}

#[test]
fn inspect_reports_features_imports_and_limits() {
    // (module (import "ward" "f" (func)) (memory 1) (func (export "m")))
    let wasm = [
        0, b'a', b's', b'm', 1, 0, 0, 0, // header
        1, 4, 1, 0x60, 0, 0, // types: [] -> []
        2, 10, 1, 4, b'w', b'a', b'r', b'd', 1, b'f', 0, 0, // import ward.f
        3, 2, 1, 0, // one function
        5, 3, 1, 0, 1, // memory 1
        7, 5, 1, 1, b'm', 0, 1, // export "m" = func 1
        10, 4, 1, 2, 0, 0x0b, // body
    ];
    let mut policy = Policy::default();
    if let crate::ImportPolicy::Functions(list) = &mut policy.imports {
        list.push(crate::HostSignature {
            module: "ward".into(),
            name: "f".into(),
            params: vec![],
            results: vec![],
        });
    }
    // Not in the ABI: refused by the default policy.
    assert!(matches!(
        crate::inspect(&wasm, &Policy::default()),
        Err(PolicyError::UnknownImport { .. })
    ));
    let report = crate::inspect(&wasm, &policy).unwrap();
    assert_eq!(
        report.imports,
        vec![("ward".to_string(), "f".to_string(), "func")]
    );
    assert_eq!(report.exports, vec![("m".to_string(), "func")]);
    assert!(report.features.is_empty(), "{:?}", report.features);
    let pages = report
        .limits
        .iter()
        .find(|l| l.name == "max_memory_pages")
        .unwrap();
    assert_eq!((pages.limit, pages.found), (256, 1));
    assert!(report.instrumented_bytes.unwrap() > report.module_bytes);
    // Every name lines up with its value.
    assert_eq!(
        crate::Limits::NAMES.len(),
        crate::Limits::default().entries().len()
    );
}

/// The import policy is part of the pass: checked before anything is
/// compiled, by name, kind and exact signature.
#[test]
fn imports_are_checked_by_the_pass() {
    // (module (type (func (result i64))) (import "ward" "input_size" (func (type 0))))
    let header = [0, b'a', b's', b'm', 1, 0, 0, 0];
    let with_import = |ty: &[u8], name: &[u8], desc: &[u8]| {
        let mut m = header.to_vec();
        m.extend([1, ty.len() as u8 + 1, 1]);
        m.extend(ty);
        let mut import = vec![1, 4];
        import.extend(b"ward");
        import.push(name.len() as u8);
        import.extend(name);
        import.extend(desc);
        m.extend([2, import.len() as u8]);
        m.extend(import);
        m
    };
    let policy = Policy::default();
    let wrong = with_import(&[0x60, 0, 1, 0x7e], b"input_size", &[0, 0]);
    assert!(matches!(
        crate::prepare(&wrong, &policy),
        Err(PolicyError::ImportSignatureMismatch { .. })
    ));
    let right = with_import(&[0x60, 0, 1, 0x7f], b"input_size", &[0, 0]);
    assert!(crate::prepare(&right, &policy).is_ok());
    let unknown = with_import(&[0x60, 0, 1, 0x7f], b"nope", &[0, 0]);
    assert!(matches!(
        crate::prepare(&unknown, &policy),
        Err(PolicyError::UnknownImport { .. })
    ));
    // A memory, table or global import is never a host function.
    let memory = with_import(&[0x60, 0, 0], b"mem", &[2, 0, 1]);
    assert!(matches!(
        crate::prepare(&memory, &policy),
        Err(PolicyError::UnknownImport { kind: "memory", .. })
    ));
    let global = with_import(&[0x60, 0, 0], b"input_size", &[3, 0x7f, 0]);
    assert!(matches!(
        crate::prepare(&global, &policy),
        Err(PolicyError::ImportSignatureMismatch { .. })
    ));
    // `Any` leaves imports to the linker.
    let any = Policy {
        imports: crate::ImportPolicy::Any,
        ..Policy::default()
    };
    assert!(crate::prepare(&unknown, &any).is_ok());
    assert!(crate::prepare(&memory, &any).is_ok());
}

/// A module exporting one function of `params` i32 parameters and `results`
/// i32 results (all zero).
fn wide_function(params: usize, results: usize) -> Vec<u8> {
    use wasm_encoder::{
        CodeSection, ExportKind, ExportSection, Function, FunctionSection, Instruction, Module,
        TypeSection, ValType,
    };
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types
        .ty()
        .function(vec![ValType::I32; params], vec![ValType::I32; results]);
    module.section(&types);
    let mut functions = FunctionSection::new();
    functions.function(0);
    module.section(&functions);
    let mut exports = ExportSection::new();
    exports.export("f", ExportKind::Func, 0);
    module.section(&exports);
    let mut body = Function::new([]);
    for _ in 0..results {
        body.instruction(&Instruction::I32Const(0));
    }
    body.instruction(&Instruction::End);
    let mut code = CodeSection::new();
    code.function(&body);
    module.section(&code);
    module.finish()
}

#[test]
fn the_meters_always_fit_in_a_signature() {
    // Whatever the policy allows, the two parameters and the result the
    // rewrite adds must keep every signature within the engines' bounds
    // (1 000 each), or an accepted module would fail to compile.
    let policy = Policy {
        limits: Limits {
            max_params: u32::MAX,
            max_results: u32::MAX,
            ..Limits::default()
        },
        ..Policy::default()
    };
    let widest = prepare(&wide_function(998, 999), &policy).unwrap();
    let mut validator = wasmparser::Validator::new();
    assert!(validator.validate_all(&widest.wasm).is_ok());
    for (params, results, limit) in [(999, 1, "max_params"), (1, 1000, "max_results")] {
        assert!(
            matches!(
                prepare(&wide_function(params, results), &policy),
                Err(PolicyError::LimitExceeded { limit: l, .. }) if l == limit
            ),
            "{params} params, {results} results"
        );
    }
}

/// A module of `count` functions, about 200 bytes of code each: a loop, a
/// host call, float arithmetic, a call of the next function; every 100th
/// exported (so it gets a thunk).
fn many_functions(count: u32) -> Vec<u8> {
    many_functions_spoiled(count, &[], false)
}

/// How [`many_functions_spoiled`] spoils a function.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Spoil {
    /// A value left on the stack at its end: invalid.
    Invalid,
    /// More locals than the default limit.
    Locals,
}

/// [`many_functions`] with the functions `spoiled` names spoiled, and with
/// `bad_data` a data section after the code that cannot be read.
fn many_functions_spoiled(count: u32, spoiled: &[(u32, Spoil)], bad_data: bool) -> Vec<u8> {
    use wasm_encoder::{
        BlockType, CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection,
        ImportSection, Instruction as I, Module, TypeSection, ValType,
    };
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types.ty().function([], [ValType::I32]);
    types.ty().function([ValType::I64], [ValType::I64]);
    module.section(&types);
    let mut imports = ImportSection::new();
    imports.import("ward", "input_size", EntityType::Function(0));
    module.section(&imports);
    let mut functions = FunctionSection::new();
    let mut exports = ExportSection::new();
    for f in 0..count {
        functions.function(1);
        if f % 100 == 0 {
            exports.export(&format!("f{f}"), ExportKind::Func, f + 1);
        }
    }
    module.section(&functions);
    module.section(&exports);
    let mut code = CodeSection::new();
    for f in 0..count {
        let spoil = spoiled.iter().find(|(at, _)| *at == f).map(|&(_, how)| how);
        let mut body = if spoil == Some(Spoil::Locals) {
            Function::new([(1, ValType::I64), (2_000, ValType::I32)])
        } else {
            Function::new([(1, ValType::I64)])
        };
        if spoil == Some(Spoil::Invalid) {
            body.instructions().i32_const(7);
        }
        body.instructions()
            .local_get(0)
            .local_set(1)
            .loop_(BlockType::Empty)
            .local_get(1)
            .i64_const(1)
            .i64_sub()
            .local_tee(1)
            .i64_const(0)
            .i64_gt_s()
            .br_if(0)
            .end();
        for k in 0..12 {
            body.instructions()
                .local_get(1)
                .i64_const(i64::from(f) * 31 + k)
                .i64_add()
                .i64_const(k * 7 + 1)
                .i64_xor()
                .local_set(1);
        }
        body.instruction(&I::Call(0))
            .instruction(&I::I64ExtendI32U)
            .instruction(&I::F64Const(1.5.into()))
            .instruction(&I::LocalGet(1))
            .instruction(&I::F64ConvertI64S)
            .instruction(&I::F64Mul)
            .instruction(&I::I64ReinterpretF64)
            .instruction(&I::I64Add)
            .instruction(&I::LocalSet(1));
        if f + 1 < count {
            body.instruction(&I::LocalGet(1))
                .instruction(&I::Call(f + 2))
                .instruction(&I::LocalSet(1));
        }
        body.instruction(&I::LocalGet(1)).instruction(&I::End);
        code.function(&body);
    }
    module.section(&code);
    if bad_data {
        // A data section of one segment that ends in the middle.
        module.section(&wasm_encoder::RawSection {
            id: 11,
            data: &[1, 0, 0x41],
        });
    }
    module.finish()
}

#[test]
fn a_large_module_instruments_the_same_on_any_number_of_threads() {
    // Over the size from which `prepare` itself takes more than one
    // thread (on a machine of more than one core).
    let wasm = many_functions(1800);
    assert!(
        wasm.len() > crate::runs::PARALLEL_CODE_BYTES + 40_000,
        "{} bytes",
        wasm.len()
    );
    let profiled = Policy {
        profile: true,
        ..Policy::default()
    };
    for policy in [Policy::default(), profiled] {
        let (one, analysis) = crate::prepare_analyzed(&wasm, &policy, Some(1)).unwrap();
        assert!(one.prepaid_loops > 0, "the loops are prepaid");
        let measured = analysis.measures.found;
        assert!(measured.contains_key("max_body_bytes"), "{measured:?}");
        for threads in [Some(2), Some(3), Some(7), None] {
            let (many, analysis) = crate::prepare_analyzed(&wasm, &policy, threads).unwrap();
            assert_eq!(many.wasm, one.wasm, "{threads:?} threads");
            assert_eq!(many.prepaid_loops, one.prepaid_loops, "{threads:?} threads");
            assert_eq!(analysis.measures.found, measured, "{threads:?} threads");
        }
        let mut validator = wasmparser::Validator::new();
        assert!(validator.validate_all(&one.wasm).is_ok());
    }
}

#[test]
fn a_large_module_fails_with_the_same_error_on_any_number_of_threads() {
    use Spoil::{Invalid, Locals};
    // 1,800 bodies: with 2 threads, runs from 0 and 900; with 3, from 0,
    // 600 and 1200; with 7, every 258. Each case's first error in index
    // order is `expected`, whichever run the later ones fall in.
    let total_locals = |limit: u64| Policy {
        limits: Limits {
            max_total_locals: limit,
            ..Limits::default()
        },
        ..Policy::default()
    };
    let invalid = |e: &PolicyError| matches!(e, PolicyError::Invalid { message, .. } if message.contains("values remaining"));
    let unreadable = |e: &PolicyError| matches!(e, PolicyError::Invalid { message, .. } if message.contains("end-of-file"));
    let limit = |name: &'static str| move |e: &PolicyError| matches!(e, PolicyError::LimitExceeded { limit, .. } if *limit == name);
    type Case = (
        &'static [(u32, Spoil)],
        bool,
        Policy,
        Box<dyn Fn(&PolicyError) -> bool>,
    );
    let cases: Vec<Case> = vec![
        (
            &[(1500, Invalid), (1700, Locals)],
            false,
            Policy::default(),
            Box::new(invalid),
        ),
        (
            &[(200, Invalid), (300, Locals)],
            false,
            Policy::default(),
            Box::new(invalid),
        ),
        (
            &[(1000, Locals), (1100, Invalid)],
            false,
            Policy::default(),
            Box::new(limit("max_locals")),
        ),
        (
            &[(899, Locals), (901, Invalid)],
            false,
            Policy::default(),
            Box::new(limit("max_locals")),
        ),
        // Two locals a body (a parameter and a local): over 3,000 at 1,500.
        (
            &[(1600, Invalid)],
            false,
            total_locals(3_000),
            Box::new(limit("max_total_locals")),
        ),
        (
            &[(1400, Invalid)],
            false,
            total_locals(3_000),
            Box::new(invalid),
        ),
        // A section after the code that cannot be read comes after every
        // body's error, and is the error when the bodies are valid.
        (
            &[(1799, Invalid)],
            true,
            Policy::default(),
            Box::new(invalid),
        ),
        (&[], true, Policy::default(), Box::new(unreadable)),
    ];
    for (spoiled, bad_data, policy, expected) in cases {
        let wasm = many_functions_spoiled(1800, spoiled, bad_data);
        let fail = |threads| {
            crate::prepare_analyzed(&wasm, &policy, threads)
                .map(drop)
                .expect_err("the module is refused")
        };
        let one = fail(Some(1));
        assert!(expected(&one), "{spoiled:?}: {one}");
        for threads in [Some(2), Some(3), Some(7), None] {
            assert_eq!(fail(threads), one, "{spoiled:?} on {threads:?} threads");
        }
    }
}
