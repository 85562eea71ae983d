//! A trace's backtraces and gas profile (`docs/debugging.md`), named by
//! the symbols of the modules its frames ran: function names from their
//! name sections, source lines from their DWARF.
//!
//! A profile is one tree of gas for the whole transaction: what was
//! charged outside any frame, then each frame under the host function
//! (`ward.call`, `ward.create`) that called it, and in each Wasm frame its
//! functions and host functions as its profiling hooks recorded them. Its
//! total is the receipt's gas.

use std::collections::BTreeMap;

use ward_debug::{Flame, Symbols};
use ward_executor::{CallKind, Trace, TraceFrame};
use ward_primitives::{Address, Hash32};
use ward_rpc::results::{BacktraceEntry, FunctionGas, Profile};
use ward_vm::{ProfileLabel, Profiler};

/// The symbols of every module a trace's frames ran.
#[derive(Debug, Default)]
pub struct TraceSymbols {
    by_hash: BTreeMap<Hash32, Symbols>,
}

impl TraceSymbols {
    /// The symbols of `trace`'s modules.
    pub fn of(trace: &Trace) -> TraceSymbols {
        TraceSymbols {
            by_hash: trace
                .modules
                .iter()
                .map(|(hash, code)| (*hash, Symbols::new(code)))
                .collect(),
        }
    }

    /// The symbols of the module `frame` ran, if it ran one.
    pub fn of_frame(&self, frame: &TraceFrame) -> Option<&Symbols> {
        self.by_hash.get(frame.code_hash.as_ref()?)
    }
}

/// Where `frame` stopped, innermost first, when it ended without
/// returning: each host function and Wasm function still running, a
/// function with the source frames of its current call (inlined ones
/// first) when its module has DWARF. `None` when it returned, or ran no
/// profiled Wasm.
pub fn backtrace(frame: &TraceFrame, symbols: &TraceSymbols) -> Option<Vec<BacktraceEntry>> {
    let profile = frame.profile.as_ref()?;
    if frame.status == ward_vm::Status::Ok {
        return None;
    }
    let path = profile.open_path();
    if path.is_empty() {
        return None;
    }
    let module = symbols.of_frame(frame);
    let mut out = Vec::new();
    for index in path {
        let node = &profile.nodes()[index];
        match node.label {
            ProfileLabel::Host(module, name) => {
                out.push(BacktraceEntry {
                    function: format!("{module}.{name}"),
                    host: true,
                    ..BacktraceEntry::default()
                });
            }
            ProfileLabel::Func(func) => out.extend(function_frames(func, node.site, module)),
            ProfileLabel::Frame => {}
        }
    }
    Some(out)
}

/// Wasm function `func` at `site`: one entry per source frame there
/// (inlined functions first, marked), or one without a source position.
fn function_frames(func: u32, site: Option<u32>, module: Option<&Symbols>) -> Vec<BacktraceEntry> {
    let name = module.map_or_else(
        || format!("func[{func}]"),
        |s| s.describe(func).into_owned(),
    );
    let sources = match (module, site) {
        (Some(symbols), Some(site)) => symbols.locate(site),
        _ => Vec::new(),
    };
    let Some((outer, inlined)) = sources.split_last() else {
        return vec![BacktraceEntry {
            function: name,
            func_index: Some(func),
            offset: site,
            ..BacktraceEntry::default()
        }];
    };
    let mut out: Vec<BacktraceEntry> = inlined
        .iter()
        .map(|source| BacktraceEntry {
            function: source.function.clone().unwrap_or_else(|| "?".into()),
            inlined: true,
            file: source.file.clone(),
            line: source.line,
            column: source.column,
            ..BacktraceEntry::default()
        })
        .collect();
    out.push(BacktraceEntry {
        function: name,
        func_index: Some(func),
        offset: site,
        file: outer.file.clone(),
        line: outer.line,
        column: outer.column,
        ..BacktraceEntry::default()
    });
    out
}

/// The gas profile of `trace`: its total is the receipt's gas. Its root is
/// the transaction (`tx 0x5636ed…f9a3`).
pub fn flame(trace: &Trace, symbols: &TraceSymbols) -> Flame {
    let id = trace.receipt.tx.to_string();
    let mut flame = Flame::new(format!("tx {}", short(&id)));
    for (what, gas) in &trace.charged {
        let node = flame.child(Flame::ROOT, *what);
        flame.add(node, *gas);
    }
    if let Some(root) = &trace.root {
        let node = flame.child(Flame::ROOT, frame_name(root));
        add_frame(&mut flame, node, root, symbols);
    }
    flame
}

/// The gas profile of a call outside any chain (`ward run`), its top
/// frame's functions right under a root named `name`.
pub fn flame_of_call(trace: &Trace, symbols: &TraceSymbols, name: &str) -> Flame {
    let mut flame = Flame::new(name);
    if let Some(root) = &trace.root {
        add_frame(&mut flame, Flame::ROOT, root, symbols);
    }
    flame
}

/// Adds what `frame`, whose node is `node`, did: its own gas, and its
/// callees under the host functions that called them.
fn add_frame(flame: &mut Flame, node: usize, frame: &TraceFrame, symbols: &TraceSymbols) {
    let Some(profile) = &frame.profile else {
        flame.add(node, frame.self_gas());
        for call in &frame.calls {
            let callee = flame.child(node, frame_name(call));
            add_frame(flame, callee, call, symbols);
        }
        return;
    };
    let at = add_profile(flame, node, profile, symbols.of_frame(frame));
    // What the frame was charged besides its module's run: a create's
    // deploy charge.
    let outside = frame.gas_used.saturating_sub(profile.total());
    if outside > 0 {
        let charge = flame.child(node, "deploy charge");
        flame.add(charge, outside);
    }
    for call in &frame.calls {
        // A callee's gas was charged to the host function that called it.
        let host = call
            .suspension
            .and_then(|n| profile.nodes().iter().position(|p| p.callees.contains(&n)))
            .map_or(node, |i| at[i]);
        flame.take(host, call.gas_used);
        let callee = flame.child(host, frame_name(call));
        add_frame(flame, callee, call, symbols);
    }
}

/// Adds a frame's profile under its node `frame`: each profile node's
/// place in `flame`.
fn add_profile(
    flame: &mut Flame,
    frame: usize,
    profile: &Profiler,
    symbols: Option<&Symbols>,
) -> Vec<usize> {
    let mut at = Vec::with_capacity(profile.nodes().len());
    // A node's parent comes before it.
    for node in profile.nodes() {
        let place = match node.label {
            ProfileLabel::Frame => {
                // What the frame was charged outside its functions: making
                // its instance, and anything after its entry returned.
                if node.self_gas > 0 {
                    let instance = flame.child(frame, "instantiate");
                    flame.add(instance, node.self_gas);
                }
                at.push(frame);
                continue;
            }
            ProfileLabel::Func(func) => {
                let name = symbols.map_or_else(
                    || format!("func[{func}]"),
                    |s| s.describe(func).into_owned(),
                );
                flame.child(at.get(node.parent).copied().unwrap_or(frame), name)
            }
            ProfileLabel::Host(module, name) => flame.child(
                at.get(node.parent).copied().unwrap_or(frame),
                format!("{module}.{name}"),
            ),
        };
        flame.add(place, node.self_gas);
        at.push(place);
    }
    at
}

/// A frame's name in a profile: its contract and method
/// (`0xbde5c9…04a5 transfer`), and its kind when it is not a Ward
/// contract.
fn frame_name(frame: &TraceFrame) -> String {
    let mut name = short_address(&frame.code_address);
    // A runtime's frame gets the contract's code and the call's input in
    // one envelope (`ward_executor::envelope`).
    let input = match frame.kind {
        ward_primitives::CodeKind::Runtime(_) => unwrap_envelope(&frame.input),
        _ => &frame.input[..],
    };
    let deploys = matches!(frame.call, CallKind::Deploy | CallKind::Create);
    match ward_chain::schema::split_call(input) {
        Some((method, _)) if !matches!(frame.kind, ward_primitives::CodeKind::Runtime(_)) => {
            name.push(' ');
            name.push_str(method);
        }
        _ if deploys => name.push_str(" deploy"),
        // An EVM call's selector.
        _ if input.len() >= 4 => name.push_str(&format!(" 0x{}", hex::encode(&input[..4]))),
        _ => {}
    }
    let kind = frame.kind.as_str();
    if kind != "ward" {
        name.push_str(&format!(" [{kind}]"));
    }
    name
}

/// The call's input inside a runtime's envelope (all of it when it is
/// not one).
fn unwrap_envelope(input: &[u8]) -> &[u8] {
    ward_executor::open_envelope(input).map_or(input, |(_, input)| input)
}

fn short_address(address: &Address) -> String {
    short(&address.to_string())
}

/// `0x` and the first six and last four hex digits of a long hex string.
fn short(hex: &str) -> String {
    if hex.len() <= 14 {
        return hex.to_owned();
    }
    format!("{}…{}", &hex[..8], &hex[hex.len() - 4..])
}

/// `trace`'s gas profile as an RPC result, by the symbols of its modules:
/// its root named `root` with its top frame's functions under it (a call
/// outside any chain, [`flame_of_call`]), else the whole transaction
/// ([`flame`]). What `traceTransaction`, `simulateTransaction` and the
/// CLI's `--profile` show.
pub fn profile_of(trace: &Trace, root: Option<&str>) -> Profile {
    let symbols = TraceSymbols::of(trace);
    let flame = match root {
        Some(root) => flame_of_call(trace, &symbols, root),
        None => flame(trace, &symbols),
    };
    summarize(&flame)
}

/// How many functions [`summarize`] lists.
pub const TOP_FUNCTIONS: usize = 40;

/// A profile as an RPC result: its total, the functions with the most
/// self gas (up to [`TOP_FUNCTIONS`]), and its folded stacks.
pub fn summarize(flame: &Flame) -> Profile {
    let root = &flame.nodes()[Flame::ROOT].name;
    let top = flame
        .top()
        .into_iter()
        .filter(|f| f.total_gas > 0 && &f.name != root)
        .take(TOP_FUNCTIONS)
        .map(|f| FunctionGas {
            name: f.name,
            self_gas: f.self_gas,
            total_gas: f.total_gas,
        })
        .collect();
    Profile {
        total: flame.total(),
        top,
        folded: flame.folded(),
    }
}
