//! `gaib keys create --name N [--role admin|writer|reader] [--db FILE] [--config FILE]`: a
//! bearer API key of the service. The key is printed once, on stdout; the database keeps only
//! its hash. Its public id (the `<id>` of `gaib_<id>_<secret>`, what `POST /v1/assets` names
//! as an owner) and role go to stderr.

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
        /// What the key may do: `writer` stores portfolios and runs jobs (publishing to the
        /// assets registered to it), `admin` also registers assets and releases held
        /// valuations, `reader` only reads.
        #[arg(long, default_value = "writer", value_parser = ["admin", "writer", "reader"])]
        role: String,
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
        KeysCommand::Create {
            name,
            role,
            db,
            config,
        } => {
            let c = crate::serve::config(config.as_deref(), db)?;
            let invalid = |e: gaib_api::KeyError| match e {
                gaib_api::KeyError::Name(_) | gaib_api::KeyError::Role(_) => {
                    crate::CliError::invalid(e.to_string())
                }
                other => anyhow::Error::new(other),
            };
            let role: gaib_api::Role = role.parse().map_err(invalid)?;
            let db = gaib_api::Db::open(&c.db)?;
            let key = gaib_api::create_key_with_role(&db, &name, role).map_err(invalid)?;
            println!("{key}");
            let id = key.split('_').nth(1).unwrap_or_default();
            eprintln!(
                "created {} API key '{name}' (id {id}) in {} (shown once; only its hash is stored)",
                role.as_str(),
                c.db.display()
            );
            Ok(())
        }
    }
}
