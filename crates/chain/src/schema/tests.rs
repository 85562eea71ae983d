use proptest::prelude::*;
use serde_json::{Value, json};
use ward_sdk::codec::encode as sdk_encode;

use super::{
    Event, Method, Param, Schema, Type,
    value::{decode, encode_value},
};

fn param(name: &str, ty: &str) -> Param {
    Param {
        name: name.into(),
        ty: ty.parse().expect("type"),
    }
}

fn token() -> Schema {
    Schema {
        init: Some(vec![param("initial_supply", "u128")]),
        methods: vec![
            Method {
                payable: false,
                name: "transfer".into(),
                args: vec![param("to", "address"), param("amount", "u128")],
                returns: Type::unit(),
                read_only: false,
            },
            Method {
                payable: false,
                name: "balance_of".into(),
                args: vec![param("who", "address")],
                returns: Type::U128,
                read_only: true,
            },
        ],
        events: vec![Event {
            name: "Transfer".into(),
            fields: vec![
                param("from", "address"),
                param("to", "address"),
                param("amount", "u128"),
            ],
        }],
    }
}

fn json_bytes(ty: &str, value: Value) -> Vec<u8> {
    let mut out = Vec::new();
    encode_value(&ty.parse().expect("type"), &value, &mut out).expect("encodes");
    out
}

fn round_trip(ty: &str, value: Value) -> Vec<u8> {
    let bytes = json_bytes(ty, value.clone());
    let back = decode(&ty.parse().expect("type"), &bytes).expect("decodes");
    assert_eq!(back, value, "{ty}");
    bytes
}

#[test]
fn every_codec_type_round_trips_with_the_sdks_encoding() {
    assert_eq!(round_trip("u8", json!(255)), sdk_encode(&255u8));
    assert_eq!(round_trip("u16", json!(65535)), sdk_encode(&u16::MAX));
    assert_eq!(round_trip("u32", json!(0)), sdk_encode(&0u32));
    assert_eq!(
        round_trip("u64", json!(u64::MAX.to_string())),
        sdk_encode(&u64::MAX)
    );
    assert_eq!(
        round_trip("u128", json!(u128::MAX.to_string())),
        sdk_encode(&u128::MAX)
    );
    assert_eq!(round_trip("i8", json!(-128)), sdk_encode(&i8::MIN));
    assert_eq!(round_trip("i16", json!(32767)), sdk_encode(&i16::MAX));
    assert_eq!(round_trip("i32", json!(-1)), sdk_encode(&-1i32));
    assert_eq!(
        round_trip("i64", json!(i64::MIN.to_string())),
        sdk_encode(&i64::MIN)
    );
    assert_eq!(
        round_trip("i128", json!(i128::MIN.to_string())),
        sdk_encode(&i128::MIN)
    );
    assert_eq!(
        round_trip("i128", json!(i128::MAX.to_string())),
        sdk_encode(&i128::MAX)
    );
    assert_eq!(round_trip("bool", json!(true)), sdk_encode(&true));
    let address = format!("0x{}", "ab".repeat(32));
    assert_eq!(
        round_trip("address", json!(address)),
        sdk_encode(&ward_primitives::Address([0xab; 32]))
    );
    assert_eq!(round_trip("str", json!("")), sdk_encode(""));
    assert_eq!(
        round_trip("str", json!("héllo, 世界 🦀")),
        sdk_encode("héllo, 世界 🦀")
    );
    assert_eq!(
        round_trip("bytes", json!("0x")),
        sdk_encode(&Vec::<u8>::new())
    );
    assert_eq!(
        round_trip("bytes", json!("0x00ff10")),
        sdk_encode(&vec![0u8, 255, 16])
    );
    assert_eq!(
        round_trip("vec<u64>", json!(["1", "18446744073709551615"])),
        sdk_encode(&vec![1u64, u64::MAX])
    );
    assert_eq!(
        round_trip("vec<str>", json!([])),
        sdk_encode(&Vec::<String>::new())
    );
    assert_eq!(
        round_trip("option<u32>", json!(null)),
        sdk_encode(&None::<u32>)
    );
    assert_eq!(round_trip("option<u32>", json!(7)), sdk_encode(&Some(7u32)));
    assert_eq!(
        round_trip("option<option<bool>>", json!([null])),
        sdk_encode(&Some(None::<bool>))
    );
    assert_eq!(
        round_trip("option<option<bool>>", json!([false])),
        sdk_encode(&Some(Some(false)))
    );
    assert_eq!(
        round_trip("(address, u128)", json!([address, "5"])),
        sdk_encode(&(ward_primitives::Address([0xab; 32]), 5u128))
    );
    assert_eq!(round_trip("()", json!(null)), sdk_encode(&()));
    assert_eq!(
        round_trip("[u8; 4]", json!("0x01020304")),
        sdk_encode(&[1u8, 2, 3, 4])
    );
    assert_eq!(
        round_trip("[i16; 2]", json!([-1, 2])),
        sdk_encode(&(-1i16, 2i16))
    );
    assert_eq!(
        round_trip("option<([u8; 2], u64)>", json!(["0xbeef", "9"])),
        sdk_encode(&Some(([0xbeu8, 0xef], 9u64)))
    );
}

#[test]
fn integers_are_accepted_as_numbers_or_decimal_strings() {
    assert_eq!(
        json_bytes("u128", json!(250)),
        json_bytes("u128", json!("250"))
    );
    assert_eq!(json_bytes("u8", json!("7")), vec![7]);
    assert_eq!(json_bytes("i64", json!(-3)), sdk_encode(&-3i64));
    assert_eq!(json_bytes("u64", json!("-0")), sdk_encode(&0u64));
}

fn value_error(ty: &str, value: Value) -> String {
    let mut out = Vec::new();
    encode_value(&ty.parse().expect("type"), &value, &mut out).expect_err("refused")
}

#[test]
fn values_that_do_not_fit_are_refused_with_the_reason() {
    assert!(value_error("u128", json!("-1")).contains("negative"));
    assert!(value_error("u8", json!(256)).contains("out of range for `u8`"));
    assert!(value_error("i8", json!(-129)).contains("out of range for `i8`"));
    assert!(value_error("i8", json!(128)).contains("out of range"));
    let too_big = format!("{}0", u128::MAX);
    assert!(value_error("u128", json!(too_big)).contains("decimal integer"));
    let over_i128 = (1u128 << 127).to_string();
    assert!(value_error("i128", json!(over_i128)).contains("out of range"));
    assert!(value_error("u64", json!(1.5)).contains("integer"));
    assert!(value_error("u64", json!(" 1")).contains("decimal integer"));
    assert!(value_error("u64", json!("0x10")).contains("decimal integer"));
    assert!(value_error("bool", json!(1)).contains("true or false"));
    assert!(value_error("address", json!("0x12")).contains("64 hex digits"));
    assert!(value_error("bytes", json!("0x1")).contains("hex"));
    assert!(value_error("bytes", json!("abcd")).contains("hex"));
    assert!(value_error("str", json!(5)).contains("a string"));
    assert!(value_error("[u8; 2]", json!("0x010203")).contains("4 hex digits"));
    assert!(value_error("(u8, u8)", json!([1])).contains("an array of 2"));
    let nested = value_error("vec<(u8, str)>", json!([[1, "a"], [2, 3]]));
    assert!(nested.starts_with("[1].1: expected a string"), "{nested}");
}

#[test]
fn call_arguments_are_checked_against_the_method() {
    let schema = token();
    let to = format!("0x{}", "01".repeat(32));
    let input = schema
        .encode_call("transfer", &json!({"to": to, "amount": "250"}))
        .expect("encodes");
    assert_eq!(
        input,
        [
            sdk_encode("transfer"),
            sdk_encode(&(ward_primitives::Address([1; 32]), 250u128)),
        ]
        .concat()
    );
    let signature = "transfer(to: address, amount: u128)";
    for (args, problem) in [
        (json!({"to": to}), "missing argument `amount`"),
        (
            json!({"to": to, "amount": "1", "memo": "x"}),
            "unexpected argument `memo`",
        ),
        (json!({"to": to, "amount": -5}), "-5 is negative"),
        (
            json!({"to": to, "amount": "340282366920938463463374607431768211456"}),
            "decimal integer",
        ),
        (json!([to, "1"]), "a JSON object by name"),
    ] {
        let err = schema.encode_call("transfer", &args).expect_err("refused");
        let text = err.to_string();
        assert!(text.contains(problem), "{text}");
        assert!(text.contains(signature), "{text}");
    }
    let unknown = schema.encode_call("burn", &json!({})).expect_err("refused");
    assert!(unknown.to_string().contains("unknown method `burn`"));
    assert!(
        unknown
            .to_string()
            .contains("balance_of(who: address) -> u128")
    );
    assert_eq!(
        schema.encode_init(&json!({"initial_supply": "1000"})),
        Ok(sdk_encode(&1000u128))
    );
    let no_init = Schema {
        init: None,
        ..token()
    };
    assert_eq!(no_init.encode_init(&Value::Null), Ok(Vec::new()));
    assert!(no_init.encode_init(&json!({"x": 1})).is_err());
}

#[test]
fn outputs_and_events_decode_by_the_schema() {
    let schema = token();
    assert_eq!(
        schema.decode_output("balance_of", &sdk_encode(&u128::MAX)),
        Ok(json!(u128::MAX.to_string()))
    );
    assert_eq!(schema.decode_output("transfer", &[]), Ok(Value::Null));
    assert!(schema.decode_output("balance_of", &[1, 2]).is_err());
    let data = sdk_encode(&(
        ward_primitives::Address([1; 32]),
        ward_primitives::Address([2; 32]),
        7u128,
    ));
    let (event, fields) = schema
        .decode_event(b"Transfer", &data)
        .expect("declared")
        .expect("decodes");
    assert_eq!(event.name, "Transfer");
    assert_eq!(fields["amount"], json!("7"));
    assert_eq!(fields["to"], json!(format!("0x{}", "02".repeat(32))));
    assert!(schema.decode_event(b"Approval", &data).is_none());
    assert!(
        schema
            .decode_event(b"Transfer", &data[1..])
            .expect("declared")
            .is_err()
    );
}

#[test]
fn huge_counts_are_refused_without_allocating() {
    let bytes = [0xff, 0xff, 0xff, 0xff];
    let err = decode(&"vec<()>".parse().expect("type"), &bytes).expect_err("budget");
    assert!(err.to_string().contains("too large"), "{err}");
    assert!(decode(&"vec<u64>".parse().expect("type"), &bytes).is_err());
}

#[test]
fn the_json_form_has_the_documented_shape() {
    let json = token().to_json();
    assert_eq!(json["version"], json!(1));
    assert_eq!(
        json["init"],
        json!({"args": [{"name": "initial_supply", "type": "u128"}]})
    );
    assert_eq!(
        json["methods"][0],
        json!({"name": "transfer", "args": [{"name": "to", "type": "address"}, {"name": "amount", "type": "u128"}], "returns": null, "read_only": false, "payable": false})
    );
    assert_eq!(json["methods"][1]["returns"], json!("u128"));
    assert_eq!(json["methods"][1]["read_only"], json!(true));
    assert_eq!(
        json["events"][0]["fields"][2],
        json!({"name": "amount", "type": "u128"})
    );
    assert_eq!(Schema::from_json(&json), Ok(token()));
    let mut bad = json.clone();
    bad["methods"][0]["args"][0]["type"] = json!("u256");
    assert!(Schema::from_json(&bad).is_err());
    let mut dup = json;
    dup["methods"][1]["name"] = json!("transfer");
    assert!(Schema::from_json(&dup).is_err());
}

#[test]
fn type_names_parse_back() {
    for text in [
        "u8",
        "i128",
        "address",
        "bytes",
        "str",
        "vec<str>",
        "option<vec<u64>>",
        "(address, u128)",
        "(u8,)",
        "()",
        "[u8; 32]",
        "[(bool, i8); 3]",
    ] {
        let ty: Type = text.parse().expect(text);
        assert_eq!(ty.to_string(), text);
    }
    assert_eq!("vec<u8>".parse::<Type>(), Ok(Type::Bytes));
    for bad in [
        "",
        "u256",
        "vec<u8",
        "(u8",
        "[u8; 99999]",
        "option<u8> x",
        "vec<<u8>>",
    ] {
        assert!(bad.parse::<Type>().is_err(), "{bad}");
    }
    let deep = format!("{}u8{}", "vec<".repeat(9), ">".repeat(9));
    assert!(deep.parse::<Type>().is_err());
}

#[test]
fn malformed_sections_are_refused_never_panic() {
    let good = token().encode();
    assert_eq!(Schema::decode(&good), Ok(token()));
    for len in 0..good.len() {
        assert!(Schema::decode(&good[..len]).is_err(), "truncated at {len}");
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(Schema::decode(&trailing).is_err());
    let mut version = good.clone();
    version[0] = 2;
    assert!(
        Schema::decode(&version)
            .expect_err("version")
            .0
            .contains("version 2")
    );
    let mut twice = token();
    twice.methods.push(twice.methods[0].clone());
    assert!(
        Schema::decode(&twice.encode())
            .expect_err("dup")
            .0
            .contains("twice")
    );
    let mut same_arg = token();
    same_arg.methods[0].args[1].name = "to".into();
    assert!(Schema::decode(&same_arg.encode()).is_err());
    let mut bad_name = token();
    bad_name.methods[0].name = "trans fer".into();
    assert!(Schema::decode(&bad_name.encode()).is_err());
    let mut digit = token();
    digit.events[0].name = "1st".into();
    assert!(Schema::decode(&digit.encode()).is_err());
    let mut empty = token();
    empty.methods[0].name = String::new();
    assert!(Schema::decode(&empty.encode()).is_err());
    let mut deep = token();
    let mut ty = Type::U8;
    for _ in 0..8 {
        ty = Type::Option(Box::new(ty));
    }
    deep.methods[0].returns = ty;
    assert!(
        Schema::decode(&deep.encode())
            .expect_err("deep")
            .0
            .contains("deeper")
    );
    // A bad type tag.
    let mut tag = good.clone();
    let at = good.len() - 1;
    tag[at] = 99;
    assert!(Schema::decode(&tag).is_err());
    assert!(Schema::decode(&vec![1; super::MAX_SECTION_BYTES + 1]).is_err());
}

#[test]
fn the_section_is_found_in_a_module() {
    let section: String = token()
        .encode()
        .iter()
        .map(|b| format!("\\{b:02x}"))
        .collect();
    let wat = format!(r#"(module (@custom "ward.schema" "{section}"))"#);
    let module = wat::parse_str(&wat).expect("wat");
    assert_eq!(Schema::from_module(&module), Ok(Some(token())));
    let plain = wat::parse_str("(module)").expect("wat");
    assert_eq!(Schema::from_module(&plain), Ok(None));
    let twice = wat::parse_str(format!(
        r#"(module (@custom "ward.schema" "{section}") (@custom "ward.schema" "{section}"))"#
    ))
    .expect("wat");
    assert!(Schema::from_module(&twice).is_err());
    let broken = wat::parse_str(r#"(module (@custom "ward.schema" "\01\00\07"))"#).expect("wat");
    assert!(Schema::from_module(&broken).is_err());
}

/// A contract declared with the SDK's macro, compiled for the host: its
/// section (built in a `const`) reads back as the schema it declares.
mod declared {
    #![allow(dead_code, unreachable_pub, missing_docs, clippy::unused_unit)]
    use ward_sdk::prelude::*;

    ward_sdk::record! {
        pub struct Pair {
            pub left: u8,
            pub right: String,
        }
    }

    ward_sdk::contract! {
        /// Docs stay on the function.
        init(owner: Address, limits: Vec<u64>) {
            let _ = (owner, limits);
        }

        /// An event.
        pub event Moved { from: Address, amount: u128, memo: Option<String> }

        #[read_only]
        /// Attributes in any order.
        pub fn get(key: [u8; 32]) -> Option<(u64, bool)> {
            let _ = key;
            None
        }

        pub fn put(pairs: Vec<Pair>, raw: Vec<u8>, signed: i16) -> Result<u32, ward_sdk::Revert> {
            let _ = (pairs, raw, signed);
            Ok(0)
        }

        pub fn nothing() {}
    }
}

#[test]
fn the_sdk_macro_writes_the_schema_it_declares() {
    const LEN: usize = ward_sdk::schema::encoded_len(&declared::__WARD_SCHEMA);
    static SECTION: [u8; LEN] = ward_sdk::schema::encode(&declared::__WARD_SCHEMA);
    let schema = Schema::decode(&SECTION).expect("the SDK's section reads back");
    assert_eq!(
        schema.init,
        Some(vec![param("owner", "address"), param("limits", "vec<u64>")])
    );
    let sigs: Vec<String> = schema.methods.iter().map(Method::signature).collect();
    assert_eq!(
        sigs,
        [
            "get(key: [u8; 32]) -> option<(u64, bool)>",
            "put(pairs: vec<(u8, str)>, raw: bytes, signed: i16) -> u32",
            "nothing()",
        ]
    );
    let read_only: Vec<bool> = schema.methods.iter().map(|m| m.read_only).collect();
    assert_eq!(read_only, [true, false, false]);
    assert_eq!(
        schema.events[0].signature(),
        "Moved(from: address, amount: u128, memo: option<str>)"
    );
    assert_eq!(Schema::decode(&schema.encode()), Ok(schema));
}

fn any_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::U8),
        Just(Type::U16),
        Just(Type::U32),
        Just(Type::U64),
        Just(Type::U128),
        Just(Type::I8),
        Just(Type::I16),
        Just(Type::I32),
        Just(Type::I64),
        Just(Type::I128),
        Just(Type::Bool),
        Just(Type::Address),
        Just(Type::Str),
        Just(Type::Bytes),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Type::Vec(Box::new(t))),
            inner.clone().prop_map(|t| Type::Option(Box::new(t))),
            prop::collection::vec(inner.clone(), 0..4).prop_map(Type::Tuple),
            (inner, 0u32..4).prop_map(|(t, n)| Type::Array(Box::new(t), n)),
        ]
    })
}

/// Random bytes that happen to decode as a value re-encode to themselves:
/// decoding and encoding are inverse on every valid encoding.
fn decoded_bytes_reencode(ty: &Type, bytes: &[u8]) {
    if let Ok(value) = decode(ty, bytes) {
        let mut out = Vec::new();
        encode_value(ty, &value, &mut out).expect("a decoded value encodes");
        assert_eq!(out, bytes, "{ty} {value}");
    }
}

proptest! {
    #[test]
    fn decoding_then_encoding_gives_the_same_bytes(
        ty in any_type(),
        bytes in prop::collection::vec(any::<u8>(), 0..96),
    ) {
        decoded_bytes_reencode(&ty, &bytes);
        // Every prefix of a valid encoding is handled too.
        for len in 0..bytes.len().min(8) {
            decoded_bytes_reencode(&ty, &bytes[..len]);
        }
    }

    #[test]
    fn any_schema_section_decodes_or_is_refused(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(schema) = Schema::decode(&bytes) {
            prop_assert_eq!(schema.encode(), bytes);
        }
    }
}

/// docs/contracts.md states the limits and the type tags: they are the
/// code's.
#[test]
fn the_contract_guide_states_the_limits_and_tags() {
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/contracts.md"
    ))
    .expect("docs/contracts.md");
    let row = |name: &str| -> String {
        guide
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row {name:?}"))
            .split('|')
            .nth(2)
            .expect("a value")
            .trim()
            .to_owned()
    };
    use super::*;
    assert_eq!(row("section size"), format!("{MAX_SECTION_BYTES} bytes"));
    assert_eq!(
        row("name length (method, event, argument, field)"),
        format!("{MAX_NAME_BYTES} bytes")
    );
    assert_eq!(row("methods"), MAX_METHODS.to_string());
    assert_eq!(row("events"), MAX_EVENTS.to_string());
    assert_eq!(
        row("arguments of a method, fields of an event"),
        MAX_ARGS.to_string()
    );
    assert_eq!(row("type nesting depth"), MAX_TYPE_DEPTH.to_string());
    assert_eq!(row("tuple elements"), MAX_TUPLE.to_string());
    assert_eq!(row("array length"), MAX_ARRAY.to_string());
    let tags = [
        (tag::U8, "`u8`"),
        (tag::U16, "`u16`"),
        (tag::U32, "`u32`"),
        (tag::U64, "`u64`"),
        (tag::U128, "`u128`"),
        (tag::I8, "`i8`"),
        (tag::I16, "`i16`"),
        (tag::I32, "`i32`"),
        (tag::I64, "`i64`"),
        (tag::I128, "`i128`"),
        (tag::BOOL, "`bool`"),
        (tag::ADDRESS, "`address`"),
        (tag::STR, "`str`"),
        (tag::BYTES, "`bytes`"),
        (tag::VEC, "`vec`"),
        (tag::OPTION, "`option`"),
        (tag::TUPLE, "a tuple"),
        (tag::ARRAY, "an array"),
    ];
    let prose = guide.split_whitespace().collect::<Vec<_>>().join(" ");
    for (tag, name) in tags {
        assert!(prose.contains(&format!("{tag} {name}")), "tag {tag} {name}");
    }
    assert!(prose.contains(&format!("a version byte ({VERSION})")));
}
