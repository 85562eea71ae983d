//! `ward backup`: a consistent copy of a data directory's store, from a
//! running node (`--node`: it writes into its `--backup-dir`) or from a
//! directory no node holds (`--data-dir`). A node starts from the copy.

use std::{path::PathBuf, process::ExitCode};

use clap::Args;
use serde_json::json;
use ward_state::RedbStore;

use ward_rpc::client::Client;

/// `ward backup`.
#[derive(Args, Debug)]
pub(crate) struct BackupArgs {
    /// With --node: the backup's name in the node's --backup-dir; with
    /// --data-dir: the directory to write the copy into (it must hold no
    /// state yet).
    target: String,
    /// Ask the running node at this URL to write the backup, while it
    /// goes on producing blocks.
    #[arg(
        long,
        env = "WARD_NODE",
        value_name = "URL",
        conflicts_with = "data_dir"
    )]
    node: Option<String>,
    /// Copy this data directory (no node may hold it).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Print one JSON object on stdout's last line.
    #[arg(long)]
    json: bool,
}

pub(crate) fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let (height, path) = match (&args.node, &args.data_dir) {
        (Some(url), _) => {
            let asked = ward_rpc::params::Backup {
                name: args.target.clone(),
            };
            let answer = Client::new(url)?.call::<ward_rpc::methods::Backup>(&asked)?;
            (answer.value.height, answer.value.path)
        }
        (None, Some(dir)) => {
            let store = RedbStore::open_read_only(dir)?;
            let target = PathBuf::from(&args.target);
            (store.backup_into(&target)?, target.display().to_string())
        }
        (None, None) => anyhow::bail!("name the source: --node URL or --data-dir DIR"),
    };
    if args.json {
        println!(
            "{}",
            json!({ "status": "ok", "height": height, "path": path })
        );
    } else {
        println!("backed up the chain at height {height} into {path}");
    }
    Ok(ExitCode::SUCCESS)
}
