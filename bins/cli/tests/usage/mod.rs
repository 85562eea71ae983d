//! The CLI as people use it: inputs too large for a command line, a
//! reader that closes the pipe, a byte string where a path goes, a limit
//! that ran out at its default.

use std::process::{Command, Stdio};

use crate::{data_dir, example, last_json, temp_file, ward};

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn call_and_deploy_take_their_input_from_a_file() {
    let dir = data_dir("input-file");
    let counter = example("counter.wat");
    let initial = temp_file("initial.bin", &41u64.to_le_bytes());
    let initial = initial.to_string_lossy();
    let deployed = last_json(&ward(&[
        "deploy",
        &counter,
        "--data-dir",
        &dir,
        "--input-file",
        &initial,
        "--json",
    ]));
    assert_eq!(deployed["status"], "ok", "{deployed}");
    let address = deployed["address"].as_str().unwrap().to_string();
    let call_with = |file: &std::path::Path, more: &[&str]| {
        let file = file.to_string_lossy();
        let mut args: Vec<&str> = vec!["call", &address, "--data-dir", &dir, "--input-file", &file];
        args.extend(more);
        ward(&args)
    };
    // "get", from a file: the count the deploy's input set.
    let get = temp_file("get.bin", b"get");
    let out = call_with(&get, &["--json"]);
    assert_eq!(last_json(&out)["output"], "0x2900000000000000");
    // An input of 1.3 MB, which no command line takes as hex.
    let large = temp_file("large.bin", &vec![7u8; 1_300_000]);
    let out = call_with(&large, &["--gas", "50000000", "--json"]);
    assert_eq!(last_json(&out)["status"], "ok", "{}", stderr(&out));
    // One input only.
    let both = call_with(&get, &["--input", "0x00"]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn a_closed_pipe_ends_quietly() {
    // `ward … | head -0`: the reader is gone before `ward` prints.
    for args in [
        vec!["run".to_string(), example("hello.wat")],
        vec!["inspect".to_string(), example("counter.wat")],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let code = out.status.code();
        assert!(
            matches!(code, Some(0 | 141)),
            "{args:?}: {code:?} {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
}

#[test]
fn file_errors_name_the_path_briefly_and_say_which_flag_takes_bytes() {
    let hex = ward(&["run", "0x0061736d01000000"]);
    assert_eq!(hex.status.code(), Some(2));
    assert!(
        stderr(&hex).contains("looks like hex bytes"),
        "{}",
        stderr(&hex)
    );
    assert!(stderr(&hex).contains("--input 0x"), "{}", stderr(&hex));
    let wat = ward(&[
        "deploy",
        "(module (func (export \"main\")))",
        "--data-dir",
        &data_dir("wat-arg"),
    ]);
    assert_eq!(wat.status.code(), Some(2));
    assert!(
        stderr(&wat).contains("looks like WAT text"),
        "{}",
        stderr(&wat)
    );
    let long = format!("/nonexistent/{}", "d".repeat(5_000));
    let out = ward(&["run", &long]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("a path of 5013 characters"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).len() < 1_000, "the path is not printed whole");
    let input = ward(&["run", &example("hello.wat"), "--input-file", "0xdeadbeef"]);
    assert_eq!(input.status.code(), Some(2));
    assert!(
        stderr(&input).contains("looks like hex bytes"),
        "{}",
        stderr(&input)
    );
}

#[test]
fn running_out_at_the_default_gas_says_what_it_was() {
    let spin = example("spin.wat");
    let out = ward(&["run", &spin, "--backend", "wasmtime"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(
            "out of gas at the default limit of 10000000000; choose another with --gas N, or estimate with --gas auto"
        ),
        "{}",
        stderr(&out)
    );
    // A limit the user chose is not the default: no note.
    let chosen = ward(&["run", &spin, "--gas", "100000"]);
    assert_eq!(chosen.status.code(), Some(1));
    assert!(
        !stderr(&chosen).contains("default limit"),
        "{}",
        stderr(&chosen)
    );
    // The same for a call in a data directory.
    let dir = data_dir("default-gas");
    let deployed = last_json(&ward(&["deploy", &spin, "--data-dir", &dir, "--json"]));
    let address = deployed["address"].as_str().unwrap().to_string();
    let call = ward(&["call", &address, "--data-dir", &dir]);
    assert_eq!(call.status.code(), Some(1));
    assert!(
        stderr(&call).contains("out of gas at the default limit of 10000000;"),
        "{}",
        stderr(&call)
    );
}
