//! A trace as the text a failing test prints: one line per frame, then
//! the backtrace of each frame that ended without returning.

use ward_chain::schema::split_call;
use ward_debug::Symbols;
use ward_executor::{Trace, TraceFrame};
use ward_vm::{ProfileLabel, Status};

/// `trace` as indented lines.
pub(crate) fn trace(trace: &Trace) -> String {
    let mut out = String::new();
    for (what, gas) in &trace.charged {
        out.push_str(&format!("{what}: {gas} gas\n"));
    }
    match &trace.root {
        Some(root) => frame(trace, root, 0, &mut out),
        None => out.push_str("(no frame ran)\n"),
    }
    out
}

fn frame(trace: &Trace, f: &TraceFrame, depth: usize, out: &mut String) {
    let indent = "  ".repeat(depth);
    let method = split_call(&f.input).map_or(String::new(), |(name, _)| format!(".{name}"));
    out.push_str(&format!(
        "{indent}{} {}{method}: {}, {} of {} gas",
        f.call.as_str(),
        f.address,
        f.status.as_str(),
        f.gas_used,
        f.gas_given
    ));
    if let Some((kind, message)) = &f.error {
        out.push_str(&format!(" ({}: {message})", kind.as_str()));
    }
    out.push('\n');
    for line in backtrace(trace, f) {
        out.push_str(&format!("{indent}  at {line}\n"));
    }
    for call in &f.calls {
        frame(trace, call, depth + 1, out);
    }
}

/// Where `f` stopped, innermost first, when it did not return.
fn backtrace(trace: &Trace, f: &TraceFrame) -> Vec<String> {
    let Some(profile) = &f.profile else {
        return Vec::new();
    };
    if f.status == Status::Ok {
        return Vec::new();
    }
    let symbols = f
        .code_hash
        .and_then(|hash| trace.modules.get(&hash))
        .map(|code| Symbols::new(code));
    let mut out = Vec::new();
    for index in profile.open_path() {
        let node = &profile.nodes()[index];
        match node.label {
            ProfileLabel::Host(module, name) => out.push(format!("{module}.{name} (host)")),
            ProfileLabel::Func(func) => {
                let name = symbols.as_ref().map_or_else(
                    || format!("func[{func}]"),
                    |s| s.describe(func).into_owned(),
                );
                let sources = match (&symbols, node.site) {
                    (Some(symbols), Some(site)) => symbols.locate(site),
                    _ => Vec::new(),
                };
                match sources.split_last() {
                    None => out.push(name),
                    Some((outer, inlined)) => {
                        for source in inlined {
                            let position = source.position().unwrap_or_default();
                            let function = source.function.as_deref().unwrap_or("?");
                            out.push(format!("{function} {position} (inlined)"));
                        }
                        let position = outer.position().unwrap_or_default();
                        out.push(format!("{name} {position}"));
                    }
                }
            }
            ProfileLabel::Frame => {}
        }
    }
    out
}
