//! `parley keys generate` and `parley keys rotate`.

use clap::Subcommand;

use crate::app::StartError;
use crate::config::Config;
use crate::keyfiles::{self, Missing};

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new random encryption key (64 hex characters) for PARLEY_ENCRYPTION_KEY.
    Generate,
    /// Re-encrypt every stored token under the current PARLEY_ENCRYPTION_KEY.
    ///
    /// Without downtime: deploy every process with the new key in PARLEY_ENCRYPTION_KEY and the
    /// old one in PARLEY_ENCRYPTION_KEYS_OLD, run this, then remove the old key. With keys kept in
    /// the data dir (no variables set), `--new-key` retires the current key file first.
    Rotate {
        /// Data-dir keys only: generate a new key, keep the old one readable, then re-encrypt.
        #[arg(long)]
        new_key: bool,
    },
}

pub async fn run(command: KeysCommand, mut config: Config) -> Result<(), StartError> {
    match command {
        KeysCommand::Generate => {
            println!("{}", crate::crypto::random_hex(32));
            Ok(())
        }
        KeysCommand::Rotate { new_key } => {
            if new_key {
                if config.encryption_key.is_some() {
                    return Err(StartError::Other(
                        "--new-key is for keys kept in the data dir; with PARLEY_ENCRYPTION_KEY set, change the variable (old key in PARLEY_ENCRYPTION_KEYS_OLD) and run `parley keys rotate`".into(),
                    ));
                }
                keyfiles::retire_and_generate(&config.data_dir)?;
                println!(
                    "generated a new encryption key; the previous one stays readable until rotation ends"
                );
            }
            keyfiles::ensure_keys(&mut config, Missing::Fail)?;
            let runtime = crate::app::prepare(config, Missing::Fail)?;
            let cipher = runtime.state.cipher.clone();
            let report = crate::db::run(&runtime.state.pool, move |conn| {
                Ok(crate::channels::rotation::rotate_tokens(conn, &cipher))
            })
            .await?
            .map_err(|e| StartError::Other(e.to_string()))?;
            println!(
                "re-encrypted {} token(s) under key {}; {} already current; {} changed meanwhile",
                report.rotated,
                runtime.state.cipher.current_key_id(),
                report.already_current,
                report.skipped
            );
            Ok(())
        }
    }
}
