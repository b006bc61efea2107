//! `parley sandbox`: the built-in Meta sandbox, standalone, for local demos and development.

use std::net::TcpListener;

use secrecy::ExposeSecret;

use crate::app::{self, StartError};
use crate::config::Config;
use meta_sandbox::{DEFAULT_APP_ID, DEFAULT_APP_SECRET, Sandbox, SandboxConfig, Simulator};

/// Options of `parley sandbox`.
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Simulated customer events per minute (0 = no simulator).
    #[arg(long, default_value_t = 0.0)]
    pub simulate_rate: f64,
    /// Number of Pages the sandbox user manages (at least 2).
    #[arg(long, default_value_t = 3)]
    pub pages: usize,
    /// Seed of the customer simulator (same seed, same sequence of events).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs the sandbox until Ctrl-C or SIGTERM.
pub async fn run(args: SandboxArgs, config: &Config) -> Result<(), StartError> {
    let bind = std::env::var("PARLEY_SANDBOX_BIND")
        .ok()
        .filter(|b| !b.trim().is_empty())
        .unwrap_or_else(|| "127.0.0.1:8090".into());
    let listener = TcpListener::bind(&bind).map_err(|e| StartError::Listen {
        addr: bind.clone(),
        why: e.to_string(),
    })?;
    let defaults = config.meta.app_id.is_none() || config.meta.app_secret.is_none();
    let sandbox_config = SandboxConfig {
        app_id: config
            .meta
            .app_id
            .clone()
            .unwrap_or_else(|| DEFAULT_APP_ID.into()),
        app_secret: config
            .meta
            .app_secret
            .as_ref()
            .map(|s| s.expose_secret().to_string())
            .unwrap_or_else(|| DEFAULT_APP_SECRET.into()),
        graph_version: config.meta.graph_version.clone(),
        webhook_url: Some(format!("{}/webhooks/meta", config.public_url)),
        page_count: args.pages,
        instagram_app_id: config
            .meta
            .instagram
            .app_id
            .clone()
            .unwrap_or_else(|| meta_sandbox::DEFAULT_INSTAGRAM_APP_ID.into()),
        instagram_app_secret: config
            .meta
            .instagram
            .app_secret
            .as_ref()
            .map(|s| s.expose_secret().to_string())
            .unwrap_or_else(|| meta_sandbox::DEFAULT_INSTAGRAM_APP_SECRET.into()),
        ..SandboxConfig::default()
    };
    let ig_app_id = sandbox_config.instagram_app_id.clone();
    let ig_app_secret = sandbox_config.instagram_app_secret.clone();
    let app_id = sandbox_config.app_id.clone();
    let app_secret = sandbox_config.app_secret.clone();
    let webhook_url = sandbox_config.webhook_url.clone().unwrap_or_default();
    let sandbox = Sandbox::start(sandbox_config, listener)
        .await
        .map_err(|e| StartError::Other(e.to_string()))?;
    let url = sandbox.url();
    println!();
    println!("  Meta sandbox listening at {url}  (local use only: never expose it publicly)");
    if defaults {
        println!();
        println!(
            "  META_APP_ID / META_APP_SECRET are not both set, so the sandbox uses its built-in"
        );
        println!("  SANDBOX-ONLY app credentials below. Give Parley the same values.");
    }
    println!();
    println!("  Point Parley at it with:");
    println!("    META_GRAPH_URL={url}");
    println!("    META_DIALOG_URL={url}");
    println!("    META_APP_ID={app_id}");
    println!("    META_APP_SECRET={app_secret}");
    let (ig_www, ig_api, ig_graph) = sandbox.instagram_urls();
    println!("  and, for Instagram accounts without a Facebook Page (Instagram Login):");
    println!("    META_INSTAGRAM_APP_ID={ig_app_id}");
    println!("    META_INSTAGRAM_APP_SECRET={ig_app_secret}");
    println!("    META_INSTAGRAM_DIALOG_URL={ig_www}");
    println!("    META_INSTAGRAM_API_URL={ig_api}");
    println!("    META_INSTAGRAM_GRAPH_URL={ig_graph}");
    println!();
    println!("  Webhooks go to {webhook_url}");
    println!("  Seeded ids: {url}/_sandbox/world   (see docs/SANDBOX.md)");
    let simulator = (args.simulate_rate > 0.0).then(|| {
        println!(
            "  Simulating {} customer events per minute",
            args.simulate_rate
        );
        Simulator::start(&sandbox, args.simulate_rate, args.seed)
    });
    println!("  Stop with Ctrl-C");
    println!();
    app::wait_for_stop_signal().await;
    if let Some(s) = simulator {
        s.stop();
    }
    sandbox.stop().await;
    println!("sandbox stopped");
    Ok(())
}
