//! Contracts by their schema: `--json-args`, decoded receipts, `ward
//! methods`, and every argument error.

use serde_json::Value;

use crate::{data_dir, deploy_example, example, last_json, temp_file, ward};

/// The token by schema: deploy, call and query with `--json-args` (inline
/// and `@FILE`), decoded receipts, `ward methods`, `ward inspect`'s schema,
/// and every argument error: exit 2, the method's signature shown, and
/// nothing committed.
#[test]
fn json_arguments_by_the_contract_schema() {
    let contracts = ward_testkit::contracts::build().unwrap();
    let token_wasm = contracts.join("token.wasm").display().to_string();
    let dir = data_dir("json-args");
    let bob = format!("0x{}", "b0".repeat(32));
    let alice = format!("0x{}", "a1".repeat(32));
    let deployed = last_json(&ward(&[
        "deploy",
        &token_wasm,
        "--json-args",
        r#"{"initial_supply": "340282366920938463463374607431768211455"}"#,
        "--sender",
        &alice,
        "--data-dir",
        &dir,
        "--json",
    ]));
    assert_eq!(deployed["status"], "ok", "{deployed}");
    assert_eq!(deployed["events"][0]["name"], "Transfer");
    assert_eq!(
        deployed["events"][0]["fields"]["amount"],
        u128::MAX.to_string()
    );
    let token = deployed["address"].as_str().unwrap().to_owned();

    let args = temp_file(
        "transfer.json",
        format!(r#"{{"to": "{bob}", "amount": "250"}}"#).as_bytes(),
    );
    let at_file = format!("@{}", args.display());
    let sent = last_json(&ward(&[
        "call",
        &token,
        "--method",
        "transfer",
        "--json-args",
        &at_file,
        "--sender",
        &alice,
        "--data-dir",
        &dir,
        "--json",
    ]));
    assert_eq!(sent["status"], "ok", "{sent}");
    assert_eq!(sent["method"], "transfer");
    assert_eq!(sent["events"][0]["fields"]["to"], bob.as_str());
    assert_eq!(sent["events"][0]["fields"]["amount"], "250");
    let height = sent["height"].clone();

    let balance = |who: &str| {
        last_json(&ward(&[
            "query",
            &token,
            "--method",
            "balance_of",
            "--json-args",
            &format!(r#"{{"who": "{who}"}}"#),
            "--data-dir",
            &dir,
            "--json",
        ]))
    };
    assert_eq!(balance(&bob)["decoded"], "250");
    assert_eq!(balance(&alice)["decoded"], (u128::MAX - 250).to_string());
    // --decode overrides the schema's type.
    let as_bytes = last_json(&ward(&[
        "query",
        &token,
        "--method",
        "owner",
        "--json-args",
        "{}",
        "--decode",
        "[u8; 32]",
        "--data-dir",
        &dir,
        "--json",
    ]));
    assert_eq!(as_bytes["decoded"], alice.as_str());
    // A revert's message comes back decoded.
    let refused = ward(&[
        "call",
        &token,
        "--method",
        "transfer",
        "--json-args",
        &format!(r#"{{"to": "{alice}", "amount": "1000"}}"#),
        "--sender",
        &bob,
        "--data-dir",
        &dir,
        "--json",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        last_json(&refused)["decoded"],
        "insufficient balance: 250 < 1000"
    );
    assert_ne!(last_json(&refused)["height"], height);
    let height = last_json(&refused)["height"].clone();

    let signature = "transfer(to: address, amount: u128)";
    for (json, problem) in [
        (format!(r#"{{"to": "{bob}"}}"#), "missing argument `amount`"),
        (
            format!(r#"{{"to": "{bob}", "amount": "1", "memo": 1}}"#),
            "unexpected argument `memo`",
        ),
        (format!(r#"{{"to": "{bob}", "amount": -5}}"#), "is negative"),
        (
            format!(r#"{{"to": "{bob}", "amount": "340282366920938463463374607431768211456"}}"#),
            "decimal integer",
        ),
        (r#"{"to": 7, "amount": "1"}"#.to_owned(), "64 hex digits"),
    ] {
        let out = ward(&[
            "call",
            &token,
            "--method",
            "transfer",
            "--json-args",
            &json,
            "--data-dir",
            &dir,
        ]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(problem), "{stderr}");
        assert!(stderr.contains(signature), "{stderr}");
    }
    let unknown = ward(&[
        "call",
        &token,
        "--method",
        "burn",
        "--json-args",
        "{}",
        "--data-dir",
        &dir,
    ]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown method `burn`"));
    let not_json = ward(&[
        "call",
        &token,
        "--method",
        "transfer",
        "--json-args",
        "{to:",
        "--data-dir",
        &dir,
    ]);
    assert_eq!(not_json.status.code(), Some(2));
    // Nothing above reached a block.
    let latest = last_json(&ward(&[
        "query",
        &token,
        "--method",
        "total_supply",
        "--json-args",
        "{}",
        "--data-dir",
        &dir,
        "--json",
    ]));
    assert_eq!(latest["height"], height);

    let methods = last_json(&ward(&["methods", &token, "--data-dir", &dir, "--json"]));
    assert_eq!(methods["schema"]["methods"][1]["name"], "transfer");
    let text = ward(&["methods", &token, "--data-dir", &dir]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("balance_of(who: address) -> u128  [read-only]"),
        "{text}"
    );
    assert!(text.contains("Transfer(from: address, to: address, amount: u128)"));

    let inspected = last_json(&ward(&["inspect", &token_wasm, "--json"]));
    assert_eq!(
        inspected["schema"]["init"]["args"][0]["name"],
        "initial_supply"
    );
    let plain = last_json(&ward(&["inspect", &example("counter.wat"), "--json"]));
    assert_eq!(plain["schema"], Value::Null);
    let malformed = temp_file(
        "malformed-schema.wat",
        br#"(module (@custom "ward.schema" "\01\00\09") (func (export "main")))"#,
    );
    let out = ward(&["inspect", &malformed.display().to_string(), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(last_json(&out)["error"]["kind"], "invalid_schema");
    let counter_dir = data_dir("json-args-none");
    let address = deploy_example("counter.wat", &counter_dir);
    let out = ward(&[
        "call",
        &address,
        "--method",
        "x",
        "--json-args",
        "{}",
        "--data-dir",
        &counter_dir,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no schema"));
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&counter_dir).unwrap();
}
