//! `ward snapshot create` and `ward snapshot restore`: the state after one
//! block as a directory of chunks that each verify against its state root
//! (`docs/storage-format.md`, "Snapshots"), and its restore into a new data
//! directory.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Args, Subcommand};
use ward_node::{ChainSettings, ChainSettingsExt as _};
use ward_primitives::Hash32;
use ward_snapshot::{Limits, SettingsCheck, Trust, Verified};
use ward_state::{DATABASE_FILE, RedbStore};
use ward_text::parse;

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
    /// Check the snapshot in DIR against a block hash you trust and every
    /// chunk against its block's state root, and restore it into a data
    /// directory that holds no state yet. The chain's settings it carries
    /// are kept only when checked against --genesis; without it, `ward
    /// serve` on the directory needs --genesis FILE (or --dev).
    Restore {
        /// The snapshot to restore.
        dir: PathBuf,
        /// The hash of the snapshot's block, from a source you trust (a
        /// node's `getBlock`, the next block's parent, or what `ward
        /// snapshot create` printed on a machine you trust): the state
        /// root proves the state, and nothing in the snapshot proves the
        /// rest of its block.
        #[arg(long, value_name = "0xHASH", value_parser = parse::bytes32)]
        block_hash: [u8; 32],
        /// The chain's genesis: the settings the snapshot carries must be
        /// its settings on this build, and are then kept.
        #[arg(long, value_name = "FILE")]
        genesis: Option<PathBuf>,
        /// The chain's per-block gas maximum, when it was created with
        /// `--max-block-gas` rather than its genesis's (with --genesis).
        #[arg(long, value_parser = parse::gas_arg, requires = "genesis")]
        max_block_gas: Option<u64>,
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
            block_hash,
            genesis,
            max_block_gas,
            data_dir,
            json,
        } => {
            let genesis = genesis
                .map(|path| {
                    let bytes = crate::read_file(&path)?;
                    ward_node::Genesis::from_json(&bytes).map_err(|e| {
                        anyhow::anyhow!(
                            "the genesis {} does not read: {e}",
                            crate::path_hint(&path)
                        )
                    })
                })
                .transpose()?;
            let check = |settings: &BTreeMap<String, Vec<u8>>| match &genesis {
                Some(genesis) => ChainSettings::check_snapshot(settings, genesis, max_block_gas),
                None => Ok(()),
            };
            let trust = Trust {
                block_hash: Hash32(block_hash),
                settings: genesis.is_some().then_some(&check as &SettingsCheck<'_>),
            };
            let restored = restore(&dir, &data_dir, &trust)?;
            report("restored", &restored, &data_dir, json);
            if genesis.is_none() && !restored.manifest.settings.is_empty() && !json {
                println!(
                    "the chain's settings it carries were not kept (no --genesis to check them): serve it with --genesis FILE or --dev"
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Restores the snapshot in `dir` into a new store in `data_dir`; on any
/// failure leaves nothing behind (the directory too, if this made it).
fn restore(dir: &Path, data_dir: &Path, trust: &Trust<'_>) -> anyhow::Result<Verified> {
    // A snapshot that does not check is refused before anything is made.
    ward_snapshot::Manifest::read(dir)?.verify()?;
    let database = data_dir.join(DATABASE_FILE);
    if database.exists() {
        anyhow::bail!(
            "{} holds a state already: restore into a new data directory",
            data_dir.display()
        );
    }
    let made_dir = !data_dir.exists();
    let restored = RedbStore::create(data_dir)
        .map_err(anyhow::Error::from)
        .and_then(|store| Ok(ward_snapshot::restore(dir, &store, trust)?));
    if restored.is_err() {
        // Nothing was committed: leave no empty state behind.
        if made_dir {
            let _ = std::fs::remove_dir_all(data_dir);
        } else {
            let _ = std::fs::remove_file(&database);
        }
    }
    restored
}

fn report(what: &str, snapshot: &Verified, dir: &std::path::Path, json: bool) {
    let m = &snapshot.manifest;
    if json {
        let object = serde_json::json!({
            "status": what,
            "dir": dir.display().to_string(),
            "height": m.height,
            "block_hash": snapshot.block_hash().to_string(),
            "state_root": m.state_root,
            "leaves": m.leaves,
            "chunks": m.chunks.len(),
            "bytes": m.bytes,
        });
        println!("{object}");
    } else {
        println!(
            "{what} the state after block {} (hash {}, root {}): {} keys in {} chunks, {} bytes, in {}",
            m.height,
            snapshot.block_hash(),
            m.state_root,
            m.leaves,
            m.chunks.len(),
            m.bytes,
            dir.display()
        );
    }
}
