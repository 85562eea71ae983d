//! Syscall imports (`ImportPolicy::Syscalls`), the mechanism a module run
//! by another module reaches its parent through: any function of `env`
//! with up to `max_params` i64 parameters and no result or one i64. Each
//! call suspends the guest with its import number and arguments; the
//! embedder's reply is the result. On both backends.

use ward_instrument::ImportPolicy;
use ward_testkit::{Backends, assert_agree, wasm};
use ward_vm::{Config, Entry, ErrorKind, Reply, Request, RunOptions, Status, Value};

fn syscall_backends() -> Backends {
    let mut config = Config::default();
    config.policy.imports = ImportPolicy::Syscalls {
        module: "env".into(),
        max_params: 4,
    };
    Backends::new(config)
}

const CHILD: &str = r#"(module
  (import "env" "add" (func $add (param i64 i64) (result i64)))
  (import "env" "log" (func $log (param i64)))
  (import "env" "tick" (func $tick (result i64)))
  (import "env" "four" (func $four (param i64 i64 i64 i64) (result i64)))
  (memory (export "memory") 1)
  (func (export "main") (result i32)
    (call $log (call $add (i64.const 40) (i64.const 2)))
    (i32.wrap_i64 (call $four (call $tick) (i64.const 1) (i64.const 2) (i64.const 3)))))"#;

#[test]
fn every_arity_suspends_with_its_import_number_and_arguments() {
    let backends = syscall_backends();
    let code = wasm(CHILD);
    let mut seen = Vec::new();
    let runs = backends.each(|backend| {
        let mut requests = Vec::new();
        let mut service = |request: Request| {
            let Request::Syscall {
                index,
                args,
                returns,
                ..
            } = request
            else {
                return Reply::Trap(format!("unexpected {request:?}"));
            };
            // Only `log` (import 1) returns nothing.
            assert_eq!(returns, index != 1);
            let ints: Vec<i64> = args
                .iter()
                .map(|v| match v {
                    Value::I64(v) => *v,
                    _ => i64::MIN,
                })
                .collect();
            requests.push((index, ints.clone()));
            match index {
                0 | 3 => Reply::Values(vec![Value::I64(ints.iter().sum())]),
                1 => Reply::Values(Vec::new()),
                2 => Reply::Values(vec![Value::I64(7)]),
                _ => Reply::Trap("no such syscall".into()),
            }
        };
        let run = ward_testkit::run(
            backend,
            &backends.config,
            &code,
            &Entry::Main("main".into()),
            RunOptions::default(),
            ward_vm::CallContext::default(),
            &mut service,
        );
        seen.push(requests);
        run
    });
    assert_agree(&runs);
    // 7 + 1 + 2 + 3, as main's exit code.
    assert_eq!(
        (runs[0].outcome.status, runs[0].outcome.exit_code),
        (Status::Reverted, 13)
    );
    assert_eq!(runs[0].suspensions, 4);
    let expected = vec![
        (0, vec![40, 2]),
        (1, vec![42]),
        (2, vec![]),
        (3, vec![7, 1, 2, 3]),
    ];
    assert_eq!(seen, vec![expected.clone(), expected]);
}

#[test]
fn a_reply_of_the_wrong_type_is_the_embedders_fault_and_a_trap_is_the_guests() {
    let backends = syscall_backends();
    let code = wasm(CHILD);
    for backend in &backends.all {
        let module = ward_vm::compile(&**backend, &backends.config, &code).unwrap();
        let mut wrong = |_| Reply::Values(vec![Value::I32(1)]);
        let fault = ward_vm::execute(
            &**backend,
            &module,
            &Entry::Main("main".into()),
            RunOptions::default(),
            ward_vm::CallContext::default(),
            &mut wrong,
        );
        assert!(fault.is_err(), "{fault:?}");
        let mut refuse = |_| Reply::Trap("refused".into());
        let trapped = ward_vm::execute(
            &**backend,
            &module,
            &Entry::Main("main".into()),
            RunOptions::default(),
            ward_vm::CallContext::default(),
            &mut refuse,
        )
        .unwrap();
        assert_eq!(trapped.outcome.error.unwrap().kind, ErrorKind::HostError);
    }
}

#[test]
fn only_env_functions_of_syscall_signatures_are_admitted() {
    let backends = syscall_backends();
    let mismatch = ErrorKind::ImportSignatureMismatch;
    let unknown = ErrorKind::UnknownImport;
    for (kind, import) in [
        (mismatch, r#"(import "env" "f" (func (param i32)))"#),
        (mismatch, r#"(import "env" "f" (func (result f64)))"#),
        (mismatch, r#"(import "env" "f" (func (result i64 i64)))"#),
        (
            mismatch,
            r#"(import "env" "f" (func (param i64 i64 i64 i64 i64)))"#,
        ),
        (
            unknown,
            r#"(import "ward" "input_size" (func (result i32)))"#,
        ),
        (unknown, r#"(import "other" "f" (func (param i64)))"#),
        (unknown, r#"(import "env" "m" (memory 1))"#),
    ] {
        let code = wasm(&format!(
            r#"(module {import} (memory (export "memory") 1) (func (export "main")))"#
        ));
        let runs = backends.run(&code, &Entry::Main("main".into()), &RunOptions::default());
        assert_agree(&runs);
        assert_eq!(runs[0].outcome.status, Status::Rejected, "{import}");
        assert_eq!(
            runs[0].outcome.error.as_ref().unwrap().kind,
            kind,
            "{import}"
        );
    }
}
