//! Compiles one metering kernel with wasmtime (Cranelift), raw and
//! instrumented, and writes both modules and their compiled forms to a
//! directory, to compare the machine code of the hot loops:
//!
//! `cargo run --release -p ward-benches --example disasm_probe -- short_loops /tmp/dis`
//! then `objdump -d --no-show-raw-insn /tmp/dis/short_loops.{raw,ward}.cwasm`.

use std::path::PathBuf;

use ward_benches::kernels;

fn main() {
    let mut args = std::env::args().skip(1);
    let want = args.next().unwrap_or_else(|| "short_loops".into());
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "/tmp/dis".into()));
    // Optionally, the kernel moved by this many stores (see `shifted`).
    let shift: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    std::fs::create_dir_all(&dir).expect("output directory");
    let engine = wasmtime::Engine::default();
    let Some((name, wat)) = kernels().into_iter().find(|(name, _)| *name == want) else {
        eprintln!("no kernel named {want}");
        std::process::exit(2);
    };
    let raw = wat::parse_str(ward_benches::shifted(&wat, shift)).expect("kernel parses");
    let ward = ward_instrument::prepare(&raw, &ward_instrument::Policy::default())
        .expect("kernel instruments")
        .wasm;
    for (tag, bytes) in [("raw", &raw), ("ward", &ward)] {
        let compiled = engine.precompile_module(bytes).expect("kernel compiles");
        for (ext, data) in [("wasm", bytes), ("cwasm", &compiled)] {
            let path = dir.join(format!("{name}.{tag}.{ext}"));
            std::fs::write(&path, data).expect("writes");
            println!("{}", path.display());
        }
    }
}
