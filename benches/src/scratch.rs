//! Scratch directories: one per figure, removed when the figure is done.

use std::path::{Path, PathBuf};

/// A directory under the system's temp dir, named for this process and
/// `name`, emptied when made and removed when dropped (a panicking figure
/// unwinds through the drop too), so a run leaves nothing in `/tmp`.
pub struct Scratch(PathBuf);

impl Scratch {
    /// `<temp>/ward-bench-<pid>-<name>`, emptied (not yet created: the
    /// stores and caches that use it create it).
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("ward-bench-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::Scratch;

    #[test]
    fn a_scratch_directory_is_gone_when_dropped() {
        let scratch = Scratch::new("scratch-test");
        std::fs::create_dir_all(scratch.path().join("inner")).unwrap();
        std::fs::write(scratch.path().join("inner/file"), b"x").unwrap();
        let path = scratch.path().to_path_buf();
        drop(scratch);
        assert!(!path.exists(), "{} is left behind", path.display());
        // Made again, it starts empty even if an earlier run left it.
        std::fs::create_dir_all(path.join("stale")).unwrap();
        let again = Scratch::new("scratch-test");
        assert!(!again.path().exists());
    }
}
