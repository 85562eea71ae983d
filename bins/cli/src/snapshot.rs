//! `ward snapshot create` and `ward snapshot restore`: the state after one
//! block as a directory of chunks that each verify against its state root
//! (`docs/storage-format.md`, "Snapshots"), and its restore into a new data
//! directory.

use std::{path::PathBuf, process::ExitCode};

use clap::{Args, Subcommand};
use ward_snapshot::{Limits, Verified};
use ward_state::{DATABASE_FILE, RedbStore};

/// `ward snapshot`.
#[derive(Args, Debug)]
pub(crate) struct SnapshotArgs {
    #[command(subcommand)]
    command: SnapshotCommand,
}

#[derive(Subcommand, Debug)]
enum SnapshotCommand {
    /// Write the state after a block (the latest by default) into DIR,
    /// which must not exist or be empty. The data directory is only read
    /// and may be in use by a running node.
    Create {
        /// Where to write the snapshot.
        dir: PathBuf,
        /// The block after which to take the state (default: the latest).
        /// A past block can be rebuilt only while no key it held has been
        /// removed since.
        #[arg(long)]
        height: Option<u64>,
        /// The data directory to read.
        #[arg(long, default_value = "./.ward")]
        data_dir: PathBuf,
        /// Print one JSON object on stdout's last line.
        #[arg(long)]
        json: bool,
    },
    /// Check the snapshot in DIR, every chunk against its block's state
    /// root, and restore it into a data directory that holds no state yet.
    Restore {
        /// The snapshot to restore.
        dir: PathBuf,
        /// The data directory to create.
        #[arg(long, default_value = "./.ward")]
        data_dir: PathBuf,
        /// Print one JSON object on stdout's last line.
        #[arg(long)]
        json: bool,
    },
}

pub(crate) fn snapshot(args: SnapshotArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        SnapshotCommand::Create {
            dir,
            height,
            data_dir,
            json,
        } => {
            let store = RedbStore::open_read_only(&data_dir)?;
            let made = ward_snapshot::create(&store, height, &dir, Limits::default())?;
            report("created", &made, &dir, json);
        }
        SnapshotCommand::Restore {
            dir,
            data_dir,
            json,
        } => {
            let database = data_dir.join(DATABASE_FILE);
            if database.exists() {
                anyhow::bail!(
                    "{} holds a state already: restore into a new data directory",
                    data_dir.display()
                );
            }
            let store = RedbStore::create(&data_dir)?;
            match ward_snapshot::restore(&dir, &store) {
                Ok(restored) => report("restored", &restored, &data_dir, json),
                Err(e) => {
                    // Nothing was committed: leave no empty state behind.
                    drop(store);
                    let _ = std::fs::remove_file(&database);
                    return Err(e.into());
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn report(what: &str, snapshot: &Verified, dir: &std::path::Path, json: bool) {
    let m = &snapshot.manifest;
    if json {
        let object = serde_json::json!({
            "status": what,
            "dir": dir.display().to_string(),
            "height": m.height,
            "state_root": m.state_root,
            "leaves": m.leaves,
            "chunks": m.chunks.len(),
            "bytes": m.bytes,
        });
        println!("{object}");
    } else {
        println!(
            "{what} the state after block {} (root {}): {} keys in {} chunks, {} bytes, in {}",
            m.height,
            m.state_root,
            m.leaves,
            m.chunks.len(),
            m.bytes,
            dir.display()
        );
    }
}
