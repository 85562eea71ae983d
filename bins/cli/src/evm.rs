//! EVM contracts' ABI JSON in the CLI (`--abi FILE`, `docs/evm.md`): a
//! constructor's or a function's arguments encoded from JSON, and a
//! receipt's output, revert and events decoded.

use std::path::Path;

use alloy_dyn_abi::{DynSolType, DynSolValue, EventExt, FunctionExt, JsonAbiExt, Specifier};
use alloy_json_abi::{Function, JsonAbi, Param};
use anyhow::{Context, bail};
use serde_json::{Value, json};
use ward_state::Receipt;
use ward_text::parse::hex;

/// An ABI, and the function a call names.
pub(crate) struct AbiCall {
    abi: JsonAbi,
    function: Option<Function>,
}

impl AbiCall {
    /// The ABI in `path` (solc's `.abi` JSON).
    pub(crate) fn load(path: &Path) -> anyhow::Result<AbiCall> {
        let bytes = crate::read_file(path)?;
        let abi: JsonAbi = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not an ABI JSON", path.display()))?;
        Ok(AbiCall {
            abi,
            function: None,
        })
    }

    /// A constructor's arguments: what `ward deploy --runtime evm` appends
    /// to the creation code.
    pub(crate) fn constructor_input(&self, args: Option<&Value>) -> anyhow::Result<Vec<u8>> {
        let inputs = self.abi.constructor().map_or(&[][..], |c| &c.inputs[..]);
        let values = values(inputs, args)?;
        Ok(DynSolValue::Tuple(values).abi_encode_params())
    }

    /// Calldata for `method` (its selector, then its arguments); a method
    /// with overloads is picked by the number of arguments.
    pub(crate) fn call_input(
        &mut self,
        method: &str,
        args: Option<&Value>,
    ) -> anyhow::Result<Vec<u8>> {
        let count = match args {
            Some(Value::Array(items)) => Some(items.len()),
            Some(Value::Object(fields)) => Some(fields.len()),
            None => Some(0),
            Some(_) => None,
        };
        let Some(candidates) = self.abi.functions.get(method) else {
            bail!("the ABI has no function `{method}`");
        };
        let function = match candidates.as_slice() {
            [one] => one,
            many => many
                .iter()
                .find(|f| Some(f.inputs.len()) == count)
                .with_context(|| format!("no overload of `{method}` takes {count:?} arguments"))?,
        };
        let values = values(&function.inputs, args)?;
        let input = function
            .abi_encode_input(&values)
            .with_context(|| format!("cannot encode the arguments of `{method}`"))?;
        self.function = Some(function.clone());
        Ok(input)
    }

    /// Adds to a receipt's JSON what the ABI says: `"method"` and
    /// `"decoded"` (the outputs of a call that returned, a revert's
    /// `Error(string)` message or custom error), and `"name"` and
    /// `"fields"` on each event the ABI declares.
    pub(crate) fn decorate(&self, object: &mut Value, receipt: &Receipt) {
        if let Some(function) = &self.function {
            object["method"] = json!(function.name);
            match receipt.status.as_str() {
                "ok" => match function.abi_decode_output(&receipt.output) {
                    Ok(outputs) => object["decoded"] = named(&function.outputs, &outputs),
                    Err(e) => object["decode_error"] = json!(e.to_string()),
                },
                "reverted" => {
                    if let Some(reason) = self.revert_reason(&receipt.output) {
                        object["decoded"] = json!(reason);
                    }
                }
                _ => {}
            }
        }
        let Some(events) = object["events"].as_array_mut() else {
            return;
        };
        for (shown, event) in events.iter_mut().zip(&receipt.events) {
            let topics: Vec<_> = event
                .topic
                .chunks(32)
                .filter_map(|c| <[u8; 32]>::try_from(c).ok().map(Into::into))
                .collect();
            let Some(selector) = topics.first() else {
                continue;
            };
            let found = self
                .abi
                .events()
                .find(|e| !e.anonymous && e.selector() == *selector);
            if let Some(declared) = found
                && let Ok(decoded) = declared.decode_log_parts(topics.iter().copied(), &event.data)
            {
                let (mut indexed, mut body) = (decoded.indexed.iter(), decoded.body.iter());
                let mut fields = serde_json::Map::new();
                for input in &declared.inputs {
                    let value = if input.indexed {
                        indexed.next()
                    } else {
                        body.next()
                    };
                    if let Some(value) = value {
                        fields.insert(input.name.clone(), to_json(value));
                    }
                }
                shown["name"] = json!(declared.name);
                shown["fields"] = Value::Object(fields);
            }
        }
    }

    /// A revert's reason: Solidity's `Error(string)` message, or a custom
    /// error the ABI declares (its name and arguments).
    fn revert_reason(&self, data: &[u8]) -> Option<String> {
        let selector = data.get(..4)?;
        if selector == [0x08, 0xc3, 0x79, 0xa0] {
            let decoded = DynSolType::String.abi_decode_params(&data[4..]).ok()?;
            return decoded.as_str().map(str::to_owned);
        }
        let error = self
            .abi
            .errors()
            .find(|e| e.selector().as_slice() == selector)?;
        let values = error.abi_decode_input(&data[4..]).ok()?;
        Some(format!("{}{}", error.name, named(&error.inputs, &values)))
    }
}

/// The values of `params` from JSON arguments: an array in order, or an
/// object by name.
fn values(params: &[Param], args: Option<&Value>) -> anyhow::Result<Vec<DynSolValue>> {
    let given: Vec<&Value> = match args {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().collect(),
        Some(Value::Object(fields)) => params
            .iter()
            .map(|p| {
                fields
                    .get(&p.name)
                    .with_context(|| format!("no argument `{}`", p.name))
            })
            .collect::<anyhow::Result<_>>()?,
        Some(other) => bail!("arguments are a JSON array or object, not {other}"),
    };
    if given.len() != params.len() {
        bail!("{} arguments given, {} expected", given.len(), params.len());
    }
    params
        .iter()
        .zip(given)
        .map(|(param, value)| {
            let ty = param
                .resolve()
                .with_context(|| format!("the ABI's type `{}` does not parse", param.ty))?;
            ty.coerce_str(&literal(value))
                .with_context(|| format!("`{value}` is not a `{}` ({})", param.ty, param.name))
        })
        .collect()
}

/// A JSON value as the Solidity-like literal `coerce_str` reads.
fn literal(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(literal).collect();
            format!("[{}]", inner.join(","))
        }
        other => other.to_string(),
    }
}

/// Values as a JSON object by their parameters' names (by position where a
/// parameter has none).
fn named(params: &[Param], values: &[DynSolValue]) -> Value {
    if params.len() == 1 && params[0].name.is_empty() {
        return values.first().map_or(Value::Null, to_json);
    }
    let mut out = serde_json::Map::new();
    for (i, (param, value)) in params.iter().zip(values).enumerate() {
        let name = if param.name.is_empty() {
            i.to_string()
        } else {
            param.name.clone()
        };
        out.insert(name, to_json(value));
    }
    Value::Object(out)
}

/// A decoded value as JSON: numbers that fit 64 bits as numbers (larger
/// ones as decimal strings), bytes and addresses as hex.
fn to_json(value: &DynSolValue) -> Value {
    match value {
        DynSolValue::Bool(b) => json!(b),
        DynSolValue::Uint(n, _) => {
            u64::try_from(*n).map_or_else(|_| json!(n.to_string()), |n| json!(n))
        }
        DynSolValue::Int(n, _) => {
            i64::try_from(*n).map_or_else(|_| json!(n.to_string()), |n| json!(n))
        }
        DynSolValue::Address(a) => json!(a.to_string()),
        DynSolValue::FixedBytes(word, size) => json!(hex(&word[..*size])),
        DynSolValue::Bytes(bytes) => json!(hex(bytes)),
        DynSolValue::String(s) => json!(s),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) | DynSolValue::Tuple(items) => {
            Value::Array(items.iter().map(to_json).collect())
        }
        other => json!(format!("{other:?}")),
    }
}

/// Creation code from a file: the hex text solc writes (`0x` optional,
/// whitespace ignored), or the raw bytes.
pub(crate) fn creation_code(bytes: &[u8]) -> Vec<u8> {
    let text: String = String::from_utf8_lossy(bytes)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let digits = text.strip_prefix("0x").unwrap_or(&text);
    let is_hex = !digits.is_empty()
        && digits.len().is_multiple_of(2)
        && digits.chars().all(|c| c.is_ascii_hexdigit());
    match is_hex
        .then(|| ward_text::parse::hex_bytes(&format!("0x{digits}")).ok())
        .flatten()
    {
        Some(code) => code,
        None => bytes.to_vec(),
    }
}
