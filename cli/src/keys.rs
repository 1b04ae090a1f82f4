//! `gaib keys create --name N [--db FILE] [--config FILE]`: a bearer API key for the service's
//! write endpoints. The key is printed once, on stdout; the database keeps only its hash.

use std::path::PathBuf;

/// Arguments of `gaib keys`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(Debug, clap::Subcommand)]
enum KeysCommand {
    /// Create a key and print it (once: only its hash is stored).
    Create {
        /// A name for the key (who or what uses it).
        #[arg(long)]
        name: String,
        /// SQLite database file of the service (default ./var/gaib.db, or the configuration's).
        #[arg(long, value_name = "FILE")]
        db: Option<PathBuf>,
        /// The service's configuration file (for its `db`).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// Runs `gaib keys`.
pub(crate) fn run(a: Args) -> anyhow::Result<()> {
    match a.command {
        KeysCommand::Create { name, db, config } => {
            let c = crate::serve::config(config.as_deref(), db)?;
            let db = gaib_api::Db::open(&c.db)?;
            let key = gaib_api::create_key(&db, &name).map_err(|e| match e {
                gaib_api::KeyError::Name(_) => crate::CliError::invalid(e.to_string()),
                other => anyhow::Error::new(other),
            })?;
            println!("{key}");
            eprintln!(
                "created API key '{name}' in {} (shown once; only its hash is stored)",
                c.db.display()
            );
            Ok(())
        }
    }
}
