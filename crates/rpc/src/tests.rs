use super::*;

/// docs/node.md's text.
fn node_md() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/node.md");
    std::fs::read_to_string(path).expect("docs/node.md")
}

/// A value of the docs with its cut hex made whole: `0xab…cd` becomes
/// `0xab`, zeros and `cd`, 64 digits in all (or one more zero where the
/// two ends are already that long and odd).
fn whole(value: Value) -> Value {
    match value {
        Value::String(text) if text.starts_with("0x") && text.contains('…') => {
            let (head, tail) = text[2..].split_once('…').unwrap_or_default();
            let mut fill = 64usize.saturating_sub(head.len() + tail.len());
            if (head.len() + tail.len() + fill) % 2 == 1 {
                fill += 1;
            }
            Value::String(format!("0x{head}{}{tail}", "0".repeat(fill)))
        }
        Value::Array(items) => Value::Array(items.into_iter().map(whole).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, whole(v))).collect()),
        other => other,
    }
}

/// Every request and response of docs/node.md's JSON examples, in order.
fn examples() -> Vec<(Value, Value)> {
    let doc = node_md();
    let mut pairs = Vec::new();
    let mut block = None::<Vec<&str>>;
    for line in doc.lines() {
        match (&mut block, line) {
            (None, "```json") => block = Some(Vec::new()),
            (Some(lines), "```") => {
                let values: Vec<Value> = lines
                    .iter()
                    .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
                    .collect();
                assert_eq!(values.len(), 2, "an example is a request and its answer");
                pairs.push((whole(values[0].clone()), whole(values[1].clone())));
                block = None;
            }
            (Some(lines), line) => lines.push(line),
            (None, _) => {}
        }
    }
    pairs
}

#[test]
fn every_example_of_the_docs_reads_as_its_methods_types() {
    let examples = examples();
    assert!(examples.len() >= METHODS.len(), "{}", examples.len());
    for (request, response) in examples {
        let method = request["method"].as_str().expect("a method");
        let params = request.get("params").cloned().unwrap_or(json!({}));
        let fits = params_again(method, params.clone())
            .unwrap_or_else(|| panic!("docs/node.md shows {method:?}, which is no method"));
        let written = fits.unwrap_or_else(|e| panic!("{method} params {params}: {e}"));
        assert_eq!(
            written, params,
            "{method}: the params type drops or adds a field"
        );
        if let Some(result) = response.get("result") {
            let again = result_again(method, result.clone()).expect("a method");
            let again = again.unwrap_or_else(|e| panic!("{method} result {result}: {e}"));
            assert_eq!(&again, result, "{method}: the type drops or adds a field");
        } else {
            let error: ErrorObject = serde_json::from_value(response["error"].clone())
                .unwrap_or_else(|e| panic!("{method} error: {e}"));
            assert!(error.code < 0, "{error}");
        }
    }
}

#[test]
fn every_method_has_a_section_and_an_example_in_the_docs() {
    let doc = node_md();
    let shown: Vec<String> = examples()
        .iter()
        .filter_map(|(request, _)| request["method"].as_str().map(str::to_owned))
        .collect();
    for method in METHODS {
        let dev = DEV_METHODS.contains(method);
        let heading = doc.lines().any(|line| {
            line.starts_with("### ")
                && line[4..]
                    .trim_end_matches(" (dev)")
                    .split(", ")
                    .any(|name| name == *method)
                && line.ends_with(" (dev)") == dev
        });
        assert!(
            heading,
            "docs/node.md has no section for {method} (dev: {dev})"
        );
        assert!(
            shown.iter().any(|m| m == method),
            "docs/node.md has no example of {method}"
        );
    }
}

#[test]
fn the_table_names_each_method_once_and_its_types_agree() {
    let mut names = METHODS.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), METHODS.len());
    assert!(DEV_METHODS.iter().all(|m| METHODS.contains(m)));
    assert_eq!(methods::Mine::NAME, "mine");
    const { assert!(methods::Mine::DEV && !methods::GetBlock::DEV) };
}

#[test]
fn unknown_fields_are_refused_and_null_is_absent() {
    let refused = params_again(
        "getNonce",
        json!({"address": format!("0x{}", "11".repeat(32)), "x": 1}),
    );
    assert!(refused.is_some_and(|r| r.is_err()));
    let read: params::Transaction = serde_json::from_value(json!({
        "from": format!("0x{}", "11".repeat(32)),
        "call": {"to": format!("0x{}", "22".repeat(32)), "input": "0x01"},
        "gas": null, "wait": true, "value": "5"
    }))
    .expect("reads");
    assert_eq!(read.gas, None);
    assert_eq!(read.value, Some(wire::Amount(5)));
    assert_eq!(read.call.and_then(|c| c.input), Some(wire::Bytes(vec![1])));
}

#[test]
fn present_null_is_told_apart_from_absent() {
    let address = format!("0x{}", "11".repeat(32));
    let set = |extra: Value| {
        let mut params = json!({"address": address, "key": "0x00"});
        if let (Value::Object(p), Value::Object(e)) = (&mut params, extra) {
            p.extend(e);
        }
        serde_json::from_value::<params::SetStorage>(params).map(|s| s.value)
    };
    assert_eq!(set(json!({})).ok(), Some(None));
    assert_eq!(set(json!({"value": null})).ok(), Some(Some(None)));
    assert_eq!(
        set(json!({"value": "0x01"})).ok(),
        Some(Some(Some(wire::Bytes(vec![1]))))
    );
    let admin: params::Admin =
        serde_json::from_value(json!({"contract": address, "set_admin": null})).expect("reads");
    assert_eq!(admin.set_admin, Some(None));
    let back = serde_json::to_value(&admin).expect("writes");
    assert_eq!(back["set_admin"], Value::Null);
    assert!(
        back.as_object()
            .is_some_and(|o| o.contains_key("set_admin"))
    );
}

#[test]
fn a_response_reads_as_its_result_or_its_error() {
    let hash = format!("0x{}", "ab".repeat(32));
    let pending = result::<methods::SendTransaction>(
        json!({"jsonrpc": "2.0", "id": 1, "result": {"tx": hash}}),
    );
    assert!(matches!(
        pending.map(|a| a.value),
        Ok(results::Sent::Pending { .. })
    ));
    let error = result::<methods::GetBlock>(json!({"jsonrpc": "2.0", "id": 1,
        "error": {"code": -32003, "message": "m", "data": {"kind": "timeout", "tx": hash}}}));
    match error {
        Err(CallError::Rpc(error)) => {
            assert_eq!(
                (error.code, error.data.kind.as_str()),
                (error::TIMEOUT, "timeout")
            );
            assert_eq!(error.data.extra["tx"], json!(hash));
        }
        other => panic!("{other:?}"),
    }
    let wrong =
        result::<methods::GetBlock>(json!({"jsonrpc": "2.0", "id": 1, "result": {"height": "x"}}));
    assert!(matches!(wrong, Err(CallError::Shape(_))));
}
