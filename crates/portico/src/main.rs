use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use portico::{Config, ConfigError, admin, backup, demo, healthcheck, server};

/// Portico: a secure client portal for professional firms.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// A TOML configuration file (settings there are overridden by PORTICO_* variables).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Place {
    /// Address and port to listen on [env: PORTICO_BIND] [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR:PORT")]
    bind: Option<String>,
    /// Data folder for the embedded database, files and outbox [env: PORTICO_DATA] [default: ./portico-data]
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server with the configured database, storage and mail.
    Serve(Place),
    /// Run on embedded defaults with a demo firm, and print where and as whom to sign in.
    Demo(Place),
    /// Apply database migrations and exit.
    Migrate,
    /// Exit 0 when the server answers on /healthz.
    Healthcheck {
        /// The server's base URL [default: the configured public URL]
        #[arg(long)]
        url: Option<String>,
    },
    /// Operator commands.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Check the audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Back up the database and the files it names into one archive (the master encryption
    /// key is never put in it), or check an archive.
    Backup(BackupArgs),
    /// Restore a backup into an empty database and empty storage, then apply newer migrations.
    Restore {
        /// The archive `portico backup` wrote.
        archive: PathBuf,
    },
}

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
struct BackupArgs {
    #[command(subcommand)]
    command: Option<BackupCommand>,
    /// Where to write the archive, a new file [default: portico-backup-<UTC time>.tar]
    archive: Option<PathBuf>,
}

#[derive(Subcommand)]
enum BackupCommand {
    /// Check that an archive is whole (every entry present and matching its checksum).
    Verify { archive: PathBuf },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Recompute the hash chain and report the first event that does not match.
    Verify,
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_new(&config.log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if config.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn apply(place: &Place, config: &mut Config) {
    if let Some(b) = &place.bind {
        config.bind = b.clone();
    }
    if let Some(d) = &place.data {
        config.data = d.clone();
    }
}

async fn run(cli: Cli) -> Result<(), ConfigError> {
    let mut config = Config::load(cli.config.as_deref())?;
    match &cli.command {
        Command::Serve(p) | Command::Demo(p) => apply(p, &mut config),
        _ => {}
    }
    init_logging(&config);
    match cli.command {
        Command::Serve(_) => {
            let services = server::open(&config).await?;
            let running = server::start(&config, services).await?;
            tracing::info!(addr = %running.addr, "serving");
            running.until_signal().await;
        }
        Command::Demo(_) => demo::run(config).await?,
        Command::Migrate => {
            let db = server::open_db(&config).await?;
            println!(
                "migrations applied to {}",
                portico_db::describe_url(&config.database_url())
            );
            db.close().await;
        }
        Command::Healthcheck { url } => {
            let base = match url {
                Some(u) => u,
                None => config.public_url()?.to_string(),
            };
            healthcheck::check(&base).await?;
            println!("ok");
        }
        Command::Admin(cmd) => admin::run(&config, cmd).await?,
        Command::Backup(BackupArgs {
            command: Some(BackupCommand::Verify { archive }),
            ..
        }) => {
            let m = backup::verify(&archive).await?;
            println!("{} is whole: {}", archive.display(), backup::describe(&m));
        }
        Command::Backup(BackupArgs { archive, .. }) => {
            let archive = archive.unwrap_or_else(backup::default_name);
            let w = backup::backup(&config, &archive).await?;
            println!(
                "backed up to {} ({} bytes in {:.1} s): {}",
                w.path.display(),
                w.bytes,
                w.seconds,
                backup::describe(&w.manifest)
            );
        }
        Command::Restore { archive } => {
            let r = backup::restore(&config, &archive).await?;
            println!(
                "restored {} in {:.1} s; the database is now at schema version {}",
                backup::describe(&r.manifest),
                r.seconds,
                r.schema_version
            );
        }
        Command::Audit(AuditCommand::Verify) => {
            let db = server::open_db(&config).await?;
            let v = portico_db::audit::verify(&db)
                .await
                .map_err(|e| ConfigError(e.to_string()))?;
            db.close().await;
            match v.first_broken {
                None => println!("audit log intact: {} events verified", v.events),
                Some(seq) => {
                    return Err(ConfigError(format!(
                        "audit log tampered: event {seq} does not match the chain ({} events before it verified)",
                        v.events
                    )));
                }
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("portico: {e}");
            ExitCode::FAILURE
        }
    }
}
