//! `parley webhooks list --state unrouted|dead|failed` and
//! `parley webhooks replay ID|--state dead|--delivery ID` (operators, across tenants).

use clap::Subcommand;

use crate::app::StartError;
use crate::config::Config;
use crate::db::ids::{WebhookEventId, WebhookItemId};
use crate::db::statuses::ItemState;
use crate::models::webhooks;

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// List webhook items in a state across tenants (unrouted: accounts not connected anywhere).
    List {
        #[arg(long, default_value = "unrouted", value_parser = item_state)]
        state: ItemState,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Process an item again, or every item in a state (`--state failed` also splits again
    /// every delivery that was not a webhook body), or one such delivery (`--delivery ID`).
    Replay {
        id: Option<i64>,
        #[arg(long, value_parser = item_state)]
        state: Option<ItemState>,
        #[arg(long)]
        delivery: Option<i64>,
    },
}

/// `--state`: one of the item states, named in the error otherwise.
fn item_state(text: &str) -> Result<ItemState, String> {
    ItemState::parse(text).ok_or_else(|| {
        let names: Vec<&str> = ItemState::ALL.iter().map(|s| s.as_str()).collect();
        format!("--state must be one of {}", names.join(", "))
    })
}

fn db(e: diesel::result::Error) -> StartError {
    StartError::Db(e.into())
}

pub async fn run(command: WebhooksCommand, config: &Config) -> Result<(), StartError> {
    match command {
        WebhooksCommand::List { state, limit } => {
            let (items, bad_bodies) = super::with_connection(config, move |conn| {
                Ok((
                    webhooks::list_by_state(conn, state, limit).map_err(db)?,
                    webhooks::failed_events(conn, limit).map_err(db)?,
                ))
            })
            .await?;
            if items.is_empty() {
                println!("no items in that state");
            }
            for i in items {
                println!(
                    "{:>8} {:<9} {:<26} account={:<20} tenant={:<6} {}",
                    i.id,
                    i.state,
                    format!("{}:{}", i.object, i.kind)
                        .chars()
                        .take(26)
                        .collect::<String>(),
                    i.account_id,
                    i.tenant_id
                        .map(|t| t.to_string())
                        .unwrap_or_else(|| "-".into()),
                    i.last_error.unwrap_or_default()
                );
            }
            for (id, at, error) in bad_bodies {
                println!(
                    "delivery {id} at {at}: not a webhook body ({})",
                    error.unwrap_or_default()
                );
            }
            Ok(())
        }
        WebhooksCommand::Replay {
            id,
            state,
            delivery,
        } => {
            let (items, deliveries) =
                super::with_connection(config, move |conn| match (id, state, delivery) {
                    (Some(id), None, None) => Ok((
                        webhooks::replay(conn, None, Some(&[WebhookItemId(id)]), None)
                            .map_err(db)?,
                        0,
                    )),
                    (None, Some(state), None) => Ok((
                        webhooks::replay(conn, None, None, Some(state)).map_err(db)?,
                        if state == ItemState::Failed {
                            webhooks::replay_failed_deliveries(conn, None).map_err(db)?
                        } else {
                            0
                        },
                    )),
                    (None, None, Some(delivery)) => Ok((
                        0,
                        webhooks::replay_failed_deliveries(conn, Some(WebhookEventId(delivery)))
                            .map_err(db)?,
                    )),
                    _ => Err(StartError::Other(
                        "give one of: an item id, --state STATE, --delivery ID".into(),
                    )),
                })
                .await?;
            println!("{items} item(s) queued for processing");
            if deliveries > 0 || delivery.is_some() {
                println!("{deliveries} failed delivery(ies) queued to be split again");
            }
            Ok(())
        }
    }
}
