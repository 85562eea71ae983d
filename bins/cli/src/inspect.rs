//! `ward inspect`.

use std::{path::PathBuf, process::ExitCode};

use clap::Args;
use serde_json::json;
use ward_chain::schema::Schema;
use ward_vm::{Config, Inspection};

/// Arguments of `ward inspect`.
#[derive(Args, Debug)]
pub(crate) struct InspectArgs {
    /// The module: a `.wasm` binary or `.wat` text.
    file: PathBuf,
    /// Print one JSON object on stdout's last line.
    #[arg(long)]
    json: bool,
}

pub(crate) fn inspect(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let bytes = crate::read_file(&args.file)?;
    let verdict = check(&args.file, &bytes);
    match verdict {
        Ok((report, schema)) => {
            print_report(&report, schema.as_ref(), args.json);
            Ok(ExitCode::SUCCESS)
        }
        Err(failure) => {
            if args.json {
                let error = json!({"kind": failure.kind.as_str(), "message": failure.message});
                println!(
                    "{}",
                    json!({"valid": false, "status": "rejected", "error": error})
                );
            } else {
                println!("rejected:  {} ({})", failure.kind, failure.message);
            }
            Ok(ExitCode::from(1))
        }
    }
}

/// What `ward inspect` checks: the policy, the imports against the ABI,
/// and the schema section (a deploy refuses a malformed one).
pub(crate) fn check(
    path: &std::path::Path,
    bytes: &[u8],
) -> Result<(Inspection, Option<Schema>), ward_vm::Failure> {
    let config = Config::default();
    let wasm = crate::module_bytes(path, bytes)?;
    let report = ward_vm::inspect(&wasm, &config.policy).map_err(ward_vm::policy_failure)?;
    // Imports are resolved as instantiation would: compile on the
    // interpreter (cheap) and resolve against the ABI.
    let backend = crate::backends::create(ward_vm::BackendKind::Wasmi, &config)?;
    let module = ward_vm::compile(&*backend, &config, &wasm)?;
    config.resolve_imports(&module, &[])?;
    let schema = Schema::from_module(&wasm)
        .map_err(|e| ward_vm::Failure::new(ward_vm::ErrorKind::InvalidSchema, e.to_string()))?;
    Ok((report, schema))
}

pub(crate) fn print_report(report: &Inspection, schema: Option<&Schema>, as_json: bool) {
    if as_json {
        let object = json!({
            "valid": true,
            "module_bytes": report.module_bytes,
            "instrumented_bytes": report.instrumented_bytes,
            "prepaid_loops": report.prepaid_loops,
            "instance_gas": report.instance.0,
            "has_start": report.has_start,
            "features": report.features,
            "imports": report.imports.iter()
                .map(|(m, n, k)| json!({"module": m, "name": n, "kind": k})).collect::<Vec<_>>(),
            "exports": report.exports.iter()
                .map(|(n, k)| json!({"name": n, "kind": k})).collect::<Vec<_>>(),
            "limits": report.limits.iter()
                .map(|l| json!({"name": l.name, "limit": l.limit, "found": l.found})).collect::<Vec<_>>(),
            "schema": schema.map(Schema::to_json),
        });
        println!("{object}");
        return;
    }
    println!("valid:            yes");
    println!("module size:      {} bytes", report.module_bytes);
    if let Some(bytes) = report.instrumented_bytes {
        println!("instrumented:     {bytes} bytes");
        println!("prepaid loops:    {}", report.prepaid_loops);
        let (gas, shape) = report.instance;
        println!(
            "instance:         {gas} gas ({} pages, {} table elements, {} functions, {} globals, {} element items)",
            shape.pages, shape.table_elements, shape.functions, shape.globals, shape.element_items
        );
    }
    println!(
        "start function:   {}",
        if report.has_start {
            "yes (metered)"
        } else {
            "no"
        }
    );
    let features = if report.features.is_empty() {
        "MVP only".to_string()
    } else {
        report.features.join(", ")
    };
    println!("features:         {features}");
    println!("imports:");
    for (module, name, kind) in &report.imports {
        println!("  {kind:<7} {module}.{name}");
    }
    println!("exports:");
    for (name, kind) in &report.exports {
        println!("  {kind:<7} {name}");
    }
    println!("limits:");
    for l in &report.limits {
        println!("  {:<24} {:>12} of {}", l.name, l.found, l.limit);
    }
    match schema {
        Some(schema) => {
            println!("schema:           version {}", ward_chain::schema::VERSION);
            for line in schema.describe().lines() {
                println!("  {line}");
            }
        }
        None => println!("schema:           none"),
    }
}
