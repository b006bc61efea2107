//! The command line: `parley serve | worker | migrate | demo | admin ... | jobs ... | sandbox`.

mod admin;
#[cfg(feature = "sandbox")]
mod demo;
mod healthcheck;
mod jobs;
mod keys;
#[cfg(feature = "sandbox")]
mod sandbox;
mod webhooks;

use clap::{Parser, Subcommand};

use crate::app::{self, StartError};
use crate::config::Config;
use crate::keyfiles::Missing;

/// Parley: a self-hosted, multi-tenant inbox for Meta business messaging.
///
/// Configuration comes from environment variables (and a .env file): see README.md.
/// With DATABASE_URL unset, Parley runs its own PostgreSQL under $PARLEY_DATA_DIR/pg.
#[derive(Debug, Parser)]
#[command(name = "parley", version, about, long_about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (and the job worker, unless --no-worker).
    Serve {
        /// Do not run background jobs in this process (run `parley worker` elsewhere).
        #[arg(long)]
        no_worker: bool,
    },
    /// Run background jobs only.
    Worker,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Exit 0 when this host's Parley answers /readyz with 200, else 1 (container health checks).
    Healthcheck {
        /// host:port to ask (default: PARLEY_BIND, with 0.0.0.0 read as 127.0.0.1).
        #[arg(long)]
        address: Option<String>,
    },
    /// Serve with a demo tenant and admin (credentials are printed at start).
    #[cfg(feature = "sandbox")]
    Demo,
    /// Operator commands for tenants and users.
    Admin {
        #[command(subcommand)]
        command: admin::AdminCommand,
    },
    /// Inspect and steer the background job queue.
    Jobs {
        #[command(subcommand)]
        command: jobs::JobsCommand,
    },
    /// Run the built-in Meta sandbox (Graph API, OAuth dialog, webhooks) for local use.
    #[cfg(feature = "sandbox")]
    Sandbox(sandbox::SandboxArgs),
    /// Performance benchmarks (see docs/PERFORMANCE.md).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Inspect and replay webhook events (across tenants).
    Webhooks {
        #[command(subcommand)]
        command: webhooks::WebhooksCommand,
    },
    /// Encryption keys for stored Meta tokens.
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Signed webhook deliveries over loopback: events/s, acknowledgement and end-to-end latency.
    Webhooks(crate::bench::webhooks::WebhookBenchArgs),
    /// A large seeded tenant (and one 10x smaller): inbox list, filters, search, conversation view.
    Inbox(crate::bench::inbox::InboxBenchArgs),
    /// Moderation queue pages, rule matching and rule latency (see docs/PERFORMANCE.md).
    Comments(crate::bench::comments::CommentBenchArgs),
    /// Insights pages for 50 channels, two years of series, 10,000 posts and 2,000,000 messages.
    Insights(crate::bench::insights::InsightsBenchArgs),
    /// The template library of 200 WhatsApp accounts with 250 templates each, and the poll.
    Templates(crate::bench::templates::TemplateBenchArgs),
}

/// Runs one command to completion.
pub async fn run(cli: Cli, config: Config) -> Result<(), StartError> {
    match cli.command {
        Command::Serve { no_worker } => {
            let runtime = app::prepare(config, Missing::Generate)?;
            app::serve(runtime, !no_worker).await
        }
        Command::Worker => {
            let runtime = app::prepare(config, Missing::Fail)?;
            app::work(runtime).await
        }
        Command::Migrate => {
            let database = app::open_database(&config)?;
            drop(database);
            println!("migrations are up to date");
            Ok(())
        }
        Command::Healthcheck { address } => {
            let addr = healthcheck::target(config.bind, address.as_deref())?;
            tokio::task::spawn_blocking(move || healthcheck::check(addr))
                .await
                .map_err(|e| StartError::Other(e.to_string()))?
        }
        #[cfg(feature = "sandbox")]
        Command::Demo => demo::run(config).await,
        Command::Admin { command } => admin::run(command, &config).await,
        Command::Jobs { command } => jobs::run(command, &config).await,
        Command::Keys { command } => keys::run(command, config).await,
        Command::Webhooks { command } => webhooks::run(command, &config).await,
        #[cfg(feature = "sandbox")]
        Command::Sandbox(args) => sandbox::run(args, &config).await,
        Command::Bench {
            command: BenchCommand::Webhooks(args),
        } => {
            let report = crate::bench::webhooks::run(args.clone())
                .await
                .map_err(StartError::Other)?;
            crate::bench::webhooks_report::print(&report, &args);
            Ok(())
        }
        Command::Bench {
            command: BenchCommand::Inbox(args),
        } => {
            let figures = crate::bench::inbox::run(args)
                .await
                .map_err(StartError::Other)?;
            crate::bench::inbox::print(&figures);
            Ok(())
        }
        Command::Bench {
            command: BenchCommand::Comments(args),
        } => {
            let figures = crate::bench::comments::run(args)
                .await
                .map_err(StartError::Other)?;
            crate::bench::comments::print(&figures);
            Ok(())
        }
        Command::Bench {
            command: BenchCommand::Insights(args),
        } => {
            let figures = crate::bench::insights::run(args)
                .await
                .map_err(StartError::Other)?;
            crate::bench::comments::print(&figures);
            Ok(())
        }
        Command::Bench {
            command: BenchCommand::Templates(args),
        } => {
            let figures = crate::bench::templates::run(args)
                .await
                .map_err(StartError::Other)?;
            crate::bench::comments::print(&figures);
            Ok(())
        }
    }
}

/// Runs blocking database work for a CLI command on the blocking pool.
async fn with_connection<T, F>(config: &Config, work: F) -> Result<T, StartError>
where
    F: FnOnce(&mut diesel::PgConnection) -> Result<T, StartError> + Send + 'static,
    T: Send + 'static,
{
    let config = config.clone();
    tokio::task::spawn_blocking(move || {
        let database = app::open_database(&config)?;
        let mut conn = crate::db::connect(secrecy::ExposeSecret::expose_secret(&database.url))?;
        let result = work(&mut conn);
        drop(conn);
        drop(database);
        result
    })
    .await
    .map_err(|e| StartError::Other(e.to_string()))?
}
