//! `ward-statetest`: Ethereum's GeneralStateTests through Ward's EVM
//! runtime on both backends, against revm run natively
//! (`make evm-conformance`; `docs/evm.md`, "Ethereum's state tests").
//!
//! ```text
//! ward-statetest [--sample] [--known FILE] [--backend wasmtime|wasmi|both]
//!                [--filter TEXT] [--jobs N] [--write-known FILE] DIR
//! ```
//!
//! `--write-known` writes a known-differences file listing every test
//! that differed, under the cause the runner sorted it by: a draft to
//! read and name, not a file to commit unread.
//!
//! Prints a progress bar, each difference the known-differences file
//! does not list, and the counts; exits 1 when a difference is not
//! listed or the backends disagree.

use std::{
    io::{IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

use anyhow::{Context, bail};
use std::collections::{BTreeMap, BTreeSet};

use ward_statetests::{CaseResult, Cause, Known, WardSide, known::Summary};
use ward_vm::BackendKind;

struct Args {
    dir: PathBuf,
    sample: bool,
    known: Option<PathBuf>,
    backends: Vec<BackendKind>,
    filter: Option<String>,
    jobs: usize,
    write_known: Option<PathBuf>,
}

fn args() -> anyhow::Result<Args> {
    let mut out = Args {
        dir: PathBuf::new(),
        sample: false,
        known: None,
        backends: vec![BackendKind::Wasmtime, BackendKind::Wasmi],
        filter: None,
        write_known: None,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut dir = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--sample" => out.sample = true,
            "--known" => out.known = Some(value("--known")?.into()),
            "--filter" => out.filter = Some(value("--filter")?),
            "--write-known" => out.write_known = Some(value("--write-known")?.into()),
            "--jobs" => {
                out.jobs = value("--jobs")?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .context("--jobs takes a positive number")?;
            }
            "--backend" => {
                out.backends = match value("--backend")?.as_str() {
                    "both" => vec![BackendKind::Wasmtime, BackendKind::Wasmi],
                    "wasmtime" => vec![BackendKind::Wasmtime],
                    "wasmi" => vec![BackendKind::Wasmi],
                    other => bail!("--backend is wasmtime, wasmi or both, not {other}"),
                }
            }
            "-h" | "--help" => {
                println!(
                    "ward-statetest [--sample] [--known FILE] [--backend wasmtime|wasmi|both] [--filter TEXT] [--jobs N] [--write-known FILE] DIR"
                );
                std::process::exit(0);
            }
            flag if flag.starts_with('-') => bail!("unknown flag {flag}"),
            path if dir.is_none() => dir = Some(PathBuf::from(path)),
            extra => bail!("one directory only, not also {extra}"),
        }
    }
    out.dir = dir.context("the GeneralStateTests directory is missing")?;
    Ok(out)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("ward-statetest: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A progress bar on a terminal, a line per tenth elsewhere.
struct Progress {
    total: usize,
    done: AtomicUsize,
    terminal: bool,
}

impl Progress {
    fn tick(&self, cases: usize) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let width = 40;
        let filled = done * width / self.total.max(1);
        if self.terminal {
            eprint!(
                "\r[{}{}] {done}/{} files, {cases} cases",
                "#".repeat(filled),
                " ".repeat(width - filled),
                self.total
            );
            let _ = std::io::stderr().flush();
            if done == self.total {
                eprintln!();
            }
        } else if done * 10 / self.total.max(1) != (done - 1) * 10 / self.total.max(1) {
            eprintln!("{done}/{} files, {cases} cases", self.total);
        }
    }
}

fn run() -> anyhow::Result<bool> {
    let args = args()?;
    let known = match &args.known {
        Some(path) => Known::parse(
            &std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?,
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => Known::default(),
    };
    let mut files = if args.sample {
        ward_statetests::sample(&args.dir)
    } else {
        ward_statetests::files(&args.dir)
    }
    .with_context(|| format!("{}", args.dir.display()))?;
    if let Some(filter) = &args.filter {
        files.retain(|f| f.display().to_string().contains(filter.as_str()));
    }
    if files.is_empty() {
        bail!("no fixture files under {}", args.dir.display());
    }
    let sides = args
        .backends
        .iter()
        .map(|kind| WardSide::new(*kind))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let progress = Progress {
        total: files.len(),
        done: AtomicUsize::new(0),
        terminal: std::io::stderr().is_terminal(),
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<CaseResult>> = Mutex::default();
    let errors: Mutex<Vec<(String, String)>> = Mutex::default();
    std::thread::scope(|scope| {
        for _ in 0..args.jobs {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    match ward_statetests::run_file(
                        &args.dir,
                        file,
                        &sides,
                        args.sample
                            .then_some(ward_statetests::SAMPLE_CASES_PER_FILE),
                    ) {
                        Ok(cases) => results.lock().expect("not poisoned").extend(cases),
                        Err(e) => {
                            let relative = file.strip_prefix(&args.dir).unwrap_or(file);
                            errors
                                .lock()
                                .expect("not poisoned")
                                .push((relative.display().to_string(), format!("{e:#}")));
                        }
                    }
                    progress.tick(results.lock().expect("not poisoned").len());
                }
            });
        }
    });
    let mut results = results.into_inner().expect("not poisoned");
    results.sort_by(|a, b| a.id.cmp(&b.id));
    let errors = errors.into_inner().expect("not poisoned");
    Ok(report(&args, &known, &results, &errors, files.len()))
}

/// Prints what the run found; whether it passed.
fn report(
    args: &Args,
    known: &Known,
    results: &[CaseResult],
    errors: &[(String, String)],
    files: usize,
) -> bool {
    let mut summary = Summary::of(results, known);
    for (id, cause, lines) in &summary.unlisted {
        println!("differs, not listed: {id} ({cause:?})");
        for line in lines.iter().take(6) {
            println!("    {line}");
        }
    }
    for (id, lines) in &summary.disagree {
        println!("the backends disagree: {id}");
        for line in lines {
            println!("    {line}");
        }
    }
    // A fixture revm's reader cannot read is a difference too, listed by
    // its file.
    let mut unreadable = 0;
    for (file, error) in errors {
        if known.check(file, true, &mut summary.tally).is_none() {
            unreadable += 1;
            println!("unreadable, not listed: {file}: {error}");
        }
    }
    let backends: Vec<String> = args.backends.iter().map(|k| k.to_string()).collect();
    println!();
    println!(
        "state tests ({}, {}): {files} files, {} cases",
        if args.sample { "the sample" } else { "all" },
        backends.join(" and "),
        results.len()
    );
    println!(
        "  revm at Cancun reproduces the fixture: {} (not: {})",
        summary.reproduced,
        summary.cases - summary.reproduced
    );
    println!(
        "  of those, Ward's runtime gives revm's outcome: {}",
        summary.same
    );
    println!(
        "  differ, listed in the known differences ({} entries): {}",
        known.len(),
        summary.listed
    );
    for (cause, count) in known.by_cause(&summary.tally) {
        if count > 0 {
            println!("      {count:>6}  {cause}");
        }
    }
    println!("  differ, not listed: {}", summary.unlisted.len());
    println!("  differences by the runner's sorting (listed or not):");
    for (cause, count) in &summary.by_cause {
        println!("      {count:>6}  {cause:?}");
    }
    if let Some(path) = &args.write_known {
        let mut causes: BTreeMap<Cause, BTreeSet<&str>> = BTreeMap::new();
        for (test, cause) in &summary.tests {
            causes.entry(*cause).or_default().insert(test);
        }
        let mut text = String::from(
            "# Drafted by `ward-statetest --write-known`: every test that differed,\n# under the cause the runner sorted it by.\n",
        );
        if !errors.is_empty() {
            text.push_str("\n## unreadable: the fixture is malformed (a value written `0x:bigint 0x1...`), and revm's own runner skips it too\n");
            for (file, _) in errors {
                text.push_str(file);
                text.push('\n');
            }
        }
        for (cause, tests) in &causes {
            text.push_str(&format!("\n## {}\n", cause.heading()));
            for test in tests {
                text.push_str(test);
                text.push('\n');
            }
        }
        if let Err(e) = std::fs::write(path, text) {
            println!("could not write {}: {e}", path.display());
            return false;
        }
    }
    println!("  the backends disagree: {}", summary.disagree.len());
    let passing = known.passing(&summary.tally);
    if !passing.is_empty() {
        println!("  listed, but every case they cover ran the same (remove them):");
        for entry in passing {
            println!("      {entry}");
        }
    }
    summary.unlisted.is_empty() && summary.disagree.is_empty() && unreadable == 0
}
