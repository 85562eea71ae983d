//! The JSON shapes of the node's answers (`docs/node.md`), and reading
//! them back (the CLI prints a node's receipts as it prints its own).
//! Every binary value is `0x` hex.

use serde_json::{Value, json};
use ward_primitives::{Address, Hash32};
use ward_state::{BlockRecord, Event, Receipt};

/// `0x` and lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    format!("0x{}", ::hex::encode(bytes))
}

/// Parses `0x` and an even number of hex digits.
///
/// # Errors
///
/// Anything else, with what was wrong.
pub fn unhex(text: &str) -> Result<Vec<u8>, String> {
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| format!("{:?} does not start with 0x", truncate(text)))?;
    ::hex::decode(digits).map_err(|e| format!("{:?} is not hex: {e}", truncate(text)))
}

/// Parses `0x` and 64 hex digits.
///
/// # Errors
///
/// Anything else.
pub fn unhex32(text: &str) -> Result<[u8; 32], String> {
    let bytes = unhex(text)?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{:?} is {} bytes, not 32", truncate(text), bytes.len()))
}

/// At most 40 characters of `text`, for messages.
fn truncate(text: &str) -> String {
    text.chars().take(40).collect()
}

/// An event.
pub fn event(event: &Event) -> Value {
    json!({
        "contract": event.contract.to_string(),
        "topic": hex(&event.topic),
        "data": hex(&event.data),
    })
}

/// A receipt: the CLI's receipt fields, plus `index`.
pub fn receipt(receipt: &Receipt) -> Value {
    let mut object = json!({
        "status": receipt.status,
        "exit_code": receipt.exit_code,
        "output": hex(&receipt.output),
        "gas_used": receipt.gas_used,
        "fee": receipt.fee.to_string(),
        "error": receipt.error_kind.as_ref().map(|kind| json!({
            "kind": kind,
            "message": receipt.error_message.clone().unwrap_or_default(),
        })),
        "tx": receipt.tx.to_string(),
        "height": receipt.height,
        "index": receipt.index,
        "events": receipt.events.iter().map(event).collect::<Vec<_>>(),
    });
    if let Some(address) = receipt.address {
        object["address"] = json!(address.to_string());
    }
    if let Some(units) = receipt.runtime_gas {
        object["runtime_gas"] = json!(units);
    }
    object
}

/// A block: its header, hash and transactions.
pub fn block(record: &BlockRecord) -> Value {
    let header = &record.header;
    json!({
        "height": header.height,
        "hash": record.hash().to_string(),
        "parent": header.parent.to_string(),
        "time": header.time,
        "state_root": header.state_root.to_string(),
        "tx_root": header.tx_root.to_string(),
        "receipts_root": header.receipts_root.to_string(),
        "txs": record.txs.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

/// Reads a block back from [`block`]'s shape, checking that its hash is
/// the one stated.
///
/// # Errors
///
/// A missing or mistyped field, or a hash the header does not have.
pub fn block_from(value: &Value) -> Result<BlockRecord, String> {
    let hash32 = |name| unhex32(string(value, name)?).map(Hash32);
    let txs = field(value, "txs")?
        .as_array()
        .ok_or("\"txs\" is not a list")?
        .iter()
        .map(|tx| {
            tx.as_str()
                .ok_or_else(|| "a transaction id is not a string".to_owned())
                .and_then(unhex32)
                .map(Hash32)
        })
        .collect::<Result<Vec<_>, String>>()?;
    let record = BlockRecord {
        header: ward_state::Header {
            height: number(value, "height")?,
            parent: hash32("parent")?,
            time: number(value, "time")?,
            tx_root: hash32("tx_root")?,
            receipts_root: hash32("receipts_root")?,
            state_root: hash32("state_root")?,
        },
        txs,
    };
    if record.hash() != hash32("hash")? {
        return Err("the block's hash is not its header's".into());
    }
    Ok(record)
}

fn field<'a>(value: &'a Value, name: &str) -> Result<&'a Value, String> {
    value.get(name).ok_or_else(|| format!("no {name:?}"))
}

fn string<'a>(value: &'a Value, name: &str) -> Result<&'a str, String> {
    field(value, name)?
        .as_str()
        .ok_or_else(|| format!("{name:?} is not a string"))
}

fn number(value: &Value, name: &str) -> Result<u64, String> {
    field(value, name)?
        .as_u64()
        .ok_or_else(|| format!("{name:?} is not a number"))
}

/// Reads a receipt back from [`receipt`]'s shape.
///
/// # Errors
///
/// A missing or mistyped field.
pub fn receipt_from(value: &Value) -> Result<Receipt, String> {
    let hash32 = |name| unhex32(string(value, name)?).map(Hash32);
    let error = field(value, "error")?;
    let (error_kind, error_message) = if error.is_null() {
        (None, None)
    } else {
        (
            Some(string(error, "kind")?.to_owned()),
            Some(string(error, "message")?.to_owned()),
        )
    };
    let events = field(value, "events")?
        .as_array()
        .ok_or("\"events\" is not a list")?
        .iter()
        .map(|e| {
            Ok(Event {
                contract: Address(unhex32(string(e, "contract")?)?),
                topic: unhex(string(e, "topic")?)?,
                data: unhex(string(e, "data")?)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Receipt {
        fee: 0,
        tx: hash32("tx")?,
        height: number(value, "height")?,
        index: u32::try_from(number(value, "index")?).map_err(|e| e.to_string())?,
        status: string(value, "status")?.to_owned(),
        exit_code: field(value, "exit_code")?
            .as_i64()
            .and_then(|c| i32::try_from(c).ok())
            .ok_or("\"exit_code\" is not an i32")?,
        output: unhex(string(value, "output")?)?,
        gas_used: number(value, "gas_used")?,
        events,
        error_kind,
        error_message,
        address: match value.get("address") {
            None | Some(Value::Null) => None,
            Some(_) => Some(Address(unhex32(string(value, "address")?)?)),
        },
        runtime_gas: match value.get("runtime_gas") {
            None | Some(Value::Null) => None,
            Some(_) => Some(number(value, "runtime_gas")?),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipts_round_trip_through_json() {
        let original = Receipt {
            fee: 0,
            tx: Hash32([1; 32]),
            height: 4,
            index: 2,
            status: "reverted".into(),
            exit_code: -3,
            output: b"no".to_vec(),
            gas_used: 77,
            events: vec![Event {
                contract: Address([2; 32]),
                topic: b"t".to_vec(),
                data: vec![],
            }],
            error_kind: Some("reverted".into()),
            error_message: Some("m".into()),
            address: Some(Address([3; 32])),
            runtime_gas: None,
        };
        assert_eq!(receipt_from(&receipt(&original)), Ok(original.clone()));
        let evm = Receipt {
            runtime_gas: Some(29_854),
            ..original
        };
        assert_eq!(receipt(&evm)["runtime_gas"], 29_854);
        assert_eq!(receipt_from(&receipt(&evm)), Ok(evm));
    }

    #[test]
    fn blocks_round_trip_through_json_and_their_hash_is_checked() {
        let record = BlockRecord {
            header: ward_state::Header {
                height: 9,
                parent: Hash32([1; 32]),
                time: 1234,
                tx_root: Hash32([2; 32]),
                receipts_root: Hash32([3; 32]),
                state_root: Hash32([4; 32]),
            },
            txs: vec![Hash32([5; 32])],
        };
        let mut value = block(&record);
        assert_eq!(block_from(&value), Ok(record));
        value["time"] = 1235.into();
        assert!(block_from(&value).is_err());
    }

    #[test]
    fn hex_is_strict() {
        assert_eq!(unhex("0x0aFF"), Ok(vec![10, 255]));
        for bad in ["", "0a", "0x0", "0xzz", "0X00", "0x+1"] {
            assert!(unhex(bad).is_err(), "{bad}");
        }
        assert!(unhex32("0x00").is_err());
    }
}
