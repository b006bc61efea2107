//! What `parley bench webhooks` prints: the report as a Markdown table (pasted into
//! docs/PERFORMANCE.md) and, with `--statements`, where the database's time went.

use diesel::PgConnection;

use crate::bench::webhooks::{Report, WebhookBenchArgs};

/// The statements that took most of the database's time, summed over their variants. Times are
/// wall-clock inside the server: on a saturated machine they include waiting for a CPU, so they
/// are shares of the work rather than CPU costs.
pub(crate) fn print_statements(conn: &mut PgConnection) -> Result<(), String> {
    let top = crate::models::table_stats::top_statements(conn, 15).map_err(|e| e.to_string())?;
    println!();
    println!("| statement | calls | rows | time ms | WAL MB |");
    println!("|---|---|---|---|---|");
    for s in top {
        println!(
            "| `{}` | {} | {} | {:.0} | {:.0} |",
            s.statement, s.calls, s.rows, s.exec_ms, s.wal_mb
        );
    }
    Ok(())
}

/// Prints the report as a Markdown table (pasted into docs/PERFORMANCE.md).
pub fn print(report: &Report, args: &WebhookBenchArgs) {
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    let (before, after) = report.pgbench_tps;
    let ceiling = (before + after) / 2.0;
    println!(
        "| ceiling: pgbench single-row INSERT commits/s ({} clients), before / after / mean | {before:.0} / {after:.0} / {ceiling:.0} |",
        args.concurrency
    );
    println!(
        "| ceiling: bare actix-web handler requests/s | {:.0} |",
        report.bare_rps
    );
    println!(
        "| Parley accepted webhook events/s ({} connections) | {:.0} |",
        args.concurrency, report.accepted_per_sec
    );
    println!(
        "| ratio to the pgbench ceiling (mean) | {:.2} |",
        report.accepted_per_sec / ceiling.max(1.0)
    );
    println!(
        "| acknowledgement latency p50 / p99 | {:.1} ms / {:.1} ms |",
        report.ack_p50_ms, report.ack_p99_ms
    );
    println!(
        "| webhook-to-stored-message latency p50 / p99 | {:.0} ms / {:.0} ms |",
        report.e2e_p50_ms, report.e2e_p99_ms
    );
    println!(
        "| messages stored / refused requests | {} / {} |",
        report.events, report.failed
    );
    println!(
        "| backlog drained after the load stopped | {:.1} s |",
        report.processed_within_s
    );
    if args.process_after_load {
        println!(
            "| processing alone (the drain, no load) | {:.0} messages/s |",
            report.events as f64 / report.processed_within_s.max(0.001)
        );
    }
    if let Some(p) = &report.pages {
        println!(
            "| inbox list during the burst, p50 / p95 ({} samples) | {:.1} ms / {:.1} ms |",
            p.samples, p.list_p50_ms, p.list_p95_ms
        );
        println!(
            "| newest conversation's page during the burst, p50 / p95 | {:.1} ms / {:.1} ms |",
            p.conversation_p50_ms, p.conversation_p95_ms
        );
    }
}
