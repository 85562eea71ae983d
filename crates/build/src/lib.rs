//! Builds a contract crate for `wasm32-unknown-unknown`.
//!
//! What `contracts/build.sh` does for Ward's own examples, as a library
//! for `ward build` and `ward-test`: find the crate's package and its
//! `cdylib` with `cargo metadata`, pick a toolchain route, run `cargo
//! build`, and return where the module is. The routes, in this order
//! (`docs/contracts.md`, "6. Building", shows them by hand):
//!
//! 1. [`Route::Rustup`]: rustup's `wasm32-unknown-unknown` standard
//!    library, when it is installed (this crate never downloads it);
//! 2. [`Route::Debian`]: Debian's `rustc-web` compiler and the standard
//!    library's source (`rust-web-src`), building `core` and `alloc` with
//!    `-Zbuild-std`, linked by rustup's `rust-lld`.
//!
//! `WARD_CONTRACT_TOOLCHAIN=rustup|debian` forces one. When neither is
//! there, [`BuildError::NoToolchain`] says what to install.
//!
//! ```
//! // Which toolchain route this machine would build contracts with (none
//! // is an error saying what to install).
//! match ward_build::route() {
//!     Ok(route) => println!("contracts build with {}", route.as_str()),
//!     Err(e) => println!("no wasm toolchain: {e}"),
//! }
//! assert_eq!(ward_build::TARGET, "wasm32-unknown-unknown");
//! ```
//!
//! Building a contract crate (compiled here, not run: it needs a
//! toolchain and takes a while):
//!
//! ```no_run
//! let built = ward_build::build(
//!     std::path::Path::new("contracts/counter"),
//!     &ward_build::Options::default(), // release, cargo's own target directory
//! )?;
//! println!("{}", built.wasm.display());
//! # Ok::<(), ward_build::BuildError>(())
//! ```

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

/// The wasm target every contract is built for.
pub const TARGET: &str = "wasm32-unknown-unknown";

/// Where Debian's compiler and standard library source are.
const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_CORE_SRC: &str = "/usr/lib/rustlib/src/rust/library/core";

/// A toolchain route for the wasm build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// rustup's `wasm32-unknown-unknown` standard library.
    Rustup,
    /// Debian's `rustc-web` with `-Zbuild-std=core,alloc,panic_abort`.
    Debian,
}

impl Route {
    /// Its name, as `WARD_CONTRACT_TOOLCHAIN` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Rustup => "rustup",
            Route::Debian => "debian",
        }
    }
}

/// What to build, and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// The cargo profile: `release` (the default) or `debug-info` (a
    /// release build that keeps names and line tables, for backtraces),
    /// or any profile the crate's workspace defines.
    pub profile: String,
    /// Where cargo puts its output; `None` for the workspace's own target
    /// directory (`cargo metadata`'s `target_directory`).
    pub target_dir: Option<PathBuf>,
    /// Pass `--locked` (the lock file must be up to date).
    pub locked: bool,
    /// Pass `--offline`.
    pub offline: bool,
    /// Pass `--quiet` to cargo.
    pub quiet: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: "release".into(),
            target_dir: None,
            locked: false,
            offline: false,
            quiet: false,
        }
    }
}

/// A built contract.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Built {
    /// The package's name.
    pub package: String,
    /// The module.
    pub wasm: PathBuf,
    /// The route that built it.
    pub route: Route,
}

/// Why a contract could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A program (cargo, a compiler) could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// `cargo metadata` failed or answered something unexpected.
    #[error("cannot read the crate at {dir}: {message}")]
    Metadata {
        /// The crate's directory.
        dir: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The crate has no `cdylib` target, so no module to build.
    #[error(
        "{package} has no cdylib library: add `crate-type = [\"cdylib\", \"rlib\"]` under [lib]"
    )]
    NotACdylib {
        /// The package.
        package: String,
    },
    /// `WARD_CONTRACT_TOOLCHAIN` names no route.
    #[error("WARD_CONTRACT_TOOLCHAIN must be rustup, debian or unset (got {0:?})")]
    UnknownRoute(String),
    /// No route is available on this machine.
    #[error(
        "no toolchain for {TARGET} here; either\n  \
         - rustup target add {TARGET}                  (needs rustup's download server), or\n  \
         - apt-get install rustc-web rust-web-src      (Debian 12; as root)"
    )]
    NoToolchain,
    /// cargo ran and failed; its own output says why.
    #[error("cargo build for {TARGET} failed ({status}):\n{stderr}")]
    Cargo {
        /// Its exit status.
        status: String,
        /// What it printed on stderr (empty when it was passed through).
        stderr: String,
    },
    /// cargo succeeded but the module is not where it should be.
    #[error("cargo built {package} but {} is missing", wasm.display())]
    Missing {
        /// The package.
        package: String,
        /// Where the module should be.
        wasm: PathBuf,
    },
}

/// The package of the crate in `dir`: its name, its `cdylib`'s file
/// name, and the workspace's target directory.
#[derive(Clone, Debug)]
pub struct Package {
    /// The package's name.
    pub name: String,
    /// The crate's directory.
    pub dir: PathBuf,
    /// The `cdylib` target's name (hyphens become underscores).
    pub lib: String,
    /// The workspace's target directory.
    pub target_dir: PathBuf,
}

impl Package {
    /// Reads the package whose manifest is `dir/Cargo.toml`.
    ///
    /// # Errors
    ///
    /// `cargo metadata` failing, or a package without a `cdylib`.
    pub fn read(dir: &Path) -> Result<Package, BuildError> {
        let bad = |message: String| BuildError::Metadata {
            dir: dir.to_path_buf(),
            message,
        };
        // Absolute: cargo runs in `dir`, where a relative path would be
        // read from `dir` again.
        let dir = &std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
        let manifest = dir.join("Cargo.toml");
        let output = run(Command::new(cargo())
            .current_dir(dir)
            .args([
                "metadata",
                "--no-deps",
                "--format-version",
                "1",
                "--offline",
            ])
            .arg("--manifest-path")
            .arg(&manifest))?;
        if !output.status.success() {
            return Err(bad(String::from_utf8_lossy(&output.stderr)
                .trim()
                .to_string()));
        }
        let meta: Value = serde_json::from_slice(&output.stdout).map_err(|e| bad(e.to_string()))?;
        let manifest = manifest.canonicalize().unwrap_or(manifest);
        let package = meta["packages"]
            .as_array()
            .and_then(|packages| {
                packages.iter().find(|p| {
                    p["manifest_path"]
                        .as_str()
                        .is_some_and(|m| Path::new(m) == manifest)
                })
            })
            .ok_or_else(|| bad(format!("no package at {}", manifest.display())))?;
        let name = package["name"].as_str().unwrap_or_default().to_string();
        let lib = package["targets"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"))
            })
            .and_then(|t| t["name"].as_str())
            .map(|n| n.replace('-', "_"))
            .ok_or_else(|| BuildError::NotACdylib {
                package: name.clone(),
            })?;
        let target_dir = meta["target_directory"]
            .as_str()
            .map(PathBuf::from)
            .ok_or_else(|| bad("no target_directory".into()))?;
        Ok(Package {
            name,
            dir: dir.to_path_buf(),
            lib,
            target_dir,
        })
    }

    /// Builds it for [`TARGET`]. With `options.quiet` cargo's output is
    /// captured (and returned in the error); otherwise it goes to this
    /// process's stderr.
    ///
    /// # Errors
    ///
    /// No toolchain, or cargo failing.
    pub fn build(&self, options: &Options) -> Result<Built, BuildError> {
        let route = route()?;
        let target_dir = options
            .target_dir
            .clone()
            .unwrap_or_else(|| self.target_dir.clone());
        let mut cargo = Command::new(cargo());
        cargo
            .current_dir(&self.dir)
            // The module alone, as a cdylib-only crate: a contract crate
            // is often also an rlib (for its tests), and rustc's LTO keeps
            // more code when it builds both.
            .args([
                "rustc",
                "--lib",
                "--crate-type",
                "cdylib",
                "--target",
                TARGET,
                "--profile",
            ])
            .arg(&options.profile)
            .arg("--manifest-path")
            .arg(self.dir.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .args(["-p", &self.name]);
        for (on, flag) in [
            (options.locked, "--locked"),
            (options.offline, "--offline"),
            (options.quiet, "--quiet"),
        ] {
            if on {
                cargo.arg(flag);
            }
        }
        if route == Route::Debian {
            let lld = rust_lld()?;
            cargo
                .env("RUSTC_BOOTSTRAP", "1")
                .env("RUSTC", DEBIAN_RUSTC)
                .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", lld)
                .arg("-Zbuild-std=core,alloc,panic_abort");
        }
        // A nested build (ward-test inside `cargo test`) must not inherit
        // the outer build's compiler settings.
        for var in ["RUSTFLAGS", "CARGO_ENCODED_RUSTFLAGS", "CARGO_BUILD_TARGET"] {
            cargo.env_remove(var);
        }
        let status = if options.quiet {
            let output = run(&mut cargo)?;
            (
                output.status,
                String::from_utf8_lossy(&output.stderr).into_owned(),
            )
        } else {
            let status = cargo.status().map_err(|source| BuildError::Spawn {
                program: "cargo".into(),
                source,
            })?;
            (status, String::new())
        };
        if !status.0.success() {
            return Err(BuildError::Cargo {
                status: status.0.to_string(),
                stderr: status.1,
            });
        }
        // cargo's `dev` profile lands in `debug/`; every other in its name.
        let dir = match options.profile.as_str() {
            "dev" => "debug",
            other => other,
        };
        let wasm = target_dir
            .join(TARGET)
            .join(dir)
            .join(format!("{}.wasm", self.lib));
        if !wasm.is_file() {
            return Err(BuildError::Missing {
                package: self.name.clone(),
                wasm,
            });
        }
        Ok(Built {
            package: self.name.clone(),
            wasm,
            route,
        })
    }
}

/// Builds the contract crate in `dir` (see [`Package::build`]).
///
/// # Errors
///
/// As [`Package::read`] and [`Package::build`].
pub fn build(dir: &Path, options: &Options) -> Result<Built, BuildError> {
    Package::read(dir)?.build(options)
}

/// The route this machine builds with: `WARD_CONTRACT_TOOLCHAIN`'s, else
/// the first available.
///
/// # Errors
///
/// An unknown forced route, or none available.
pub fn route() -> Result<Route, BuildError> {
    match std::env::var("WARD_CONTRACT_TOOLCHAIN").ok().as_deref() {
        Some("rustup") => Ok(Route::Rustup),
        Some("debian") => Ok(Route::Debian),
        None | Some("") | Some("auto") => {
            if rustup_has_target() {
                Ok(Route::Rustup)
            } else if debian_ready() {
                Ok(Route::Debian)
            } else {
                Err(BuildError::NoToolchain)
            }
        }
        Some(other) => Err(BuildError::UnknownRoute(other.to_string())),
    }
}

/// `cargo`, as the running cargo names it when we run under one.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn run(command: &mut Command) -> Result<Output, BuildError> {
    command.output().map_err(|source| BuildError::Spawn {
        program: command.get_program().to_string_lossy().into_owned(),
        source,
    })
}

/// The active toolchain's sysroot has the wasm32 standard library.
fn rustup_has_target() -> bool {
    sysroot().is_some_and(|root| root.join("lib/rustlib").join(TARGET).join("lib").is_dir())
}

fn debian_ready() -> bool {
    Path::new(DEBIAN_RUSTC).is_file() && Path::new(DEBIAN_CORE_SRC).is_dir()
}

/// The default `rustc`'s sysroot.
fn sysroot() -> Option<PathBuf> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let output = Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&output.stdout).trim()))
}

/// rustup's `rust-lld`, which links for the Debian route.
fn rust_lld() -> Result<PathBuf, BuildError> {
    let lld = sysroot()
        .map(|root| root.join("lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld"))
        .filter(|lld| lld.is_file())
        .ok_or(BuildError::NoToolchain)?;
    Ok(lld)
}
