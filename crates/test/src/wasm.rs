//! Modules to deploy: built from a crate (cached per process), read from
//! a file, or given as bytes.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, OnceLock},
};

use ward_build::{BuildError, Options};

/// A module to deploy, and the name a failure calls it by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wasm {
    name: String,
    bytes: Arc<[u8]>,
}

/// Every crate built in this process, by directory and profile.
type Built = BTreeMap<(PathBuf, String), Arc<OnceLock<Result<Wasm, String>>>>;

impl Wasm {
    /// A module from its bytes (Wasm binary or text).
    pub fn from_bytes(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Wasm {
        let bytes: Vec<u8> = bytes.into();
        let bytes = match wat::parse_bytes(&bytes) {
            Ok(parsed) => parsed.into_owned(),
            // Not text either: deploy what was given, and let the chain
            // reject it as it would any bad module.
            Err(_) => bytes,
        };
        Wasm {
            name: name.into(),
            bytes: bytes.into(),
        }
    }

    /// A module read from `path` (`.wasm` or `.wat`).
    ///
    /// # Panics
    ///
    /// When the file cannot be read (a test setup error).
    pub fn from_file(path: impl AsRef<Path>) -> Wasm {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .unwrap_or_else(|e| panic!("ward-test: cannot read {}: {e}", path.display()));
        Wasm::from_bytes(path.display().to_string(), bytes)
    }

    /// The contract crate in `dir`, built for wasm32 in its `release`
    /// profile (once per process; [`Wasm::try_build`] for other options).
    ///
    /// # Panics
    ///
    /// When it cannot be built, with the build's error.
    pub fn build(dir: &Path) -> Wasm {
        Wasm::try_build(dir, &Options::default()).unwrap_or_else(|e| panic!("ward-test: {e}"))
    }

    /// The contract crate in `dir` built with `options`, once per process
    /// for each directory and profile: tests that run at the same time
    /// wait for the one build.
    ///
    /// # Errors
    ///
    /// The build's error, as text (the same for every caller).
    pub fn try_build(dir: &Path, options: &Options) -> Result<Wasm, String> {
        static BUILT: Mutex<Built> = Mutex::new(BTreeMap::new());
        let key = (dir.to_path_buf(), options.profile.clone());
        let cell = BUILT
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key)
            .or_default()
            .clone();
        cell.get_or_init(|| {
            let options = Options {
                quiet: true,
                ..options.clone()
            };
            let built = ward_build::build(dir, &options).map_err(|e: BuildError| e.to_string())?;
            let bytes = std::fs::read(&built.wasm)
                .map_err(|e| format!("cannot read {}: {e}", built.wasm.display()))?;
            Ok(Wasm {
                name: built.package,
                bytes: bytes.into(),
            })
        })
        .clone()
    }

    /// Its name: the package's, or the file's.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}
