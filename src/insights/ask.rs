//! Asking Meta for several insights metrics at once and, when Meta refuses the request for a
//! metric it does not serve, for each alone: the refused ones are known (and named on the page)
//! and the rest still load. One bad metric never blanks a page.

use std::future::Future;

use crate::meta::error::GraphError;
use crate::meta::insights::InsightMetric;

/// The answer, and the metrics Meta refused with its reason.
pub type Answer = (Vec<InsightMetric>, Vec<(String, String)>);

/// Calls `ask` with all `metrics`; on an invalid-metric refusal, with each one alone.
pub async fn dropping_refused<F, Fut>(metrics: &[&str], ask: F) -> Result<Answer, GraphError>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<InsightMetric>, GraphError>>,
{
    let all: Vec<String> = metrics.iter().map(|m| m.to_string()).collect();
    match ask(all).await {
        Ok(answer) => Ok((answer, Vec::new())),
        Err(e) if e.refuses_a_metric() && metrics.len() == 1 => {
            Ok((Vec::new(), vec![(metrics[0].to_string(), e.describe())]))
        }
        Err(e) if e.refuses_a_metric() => {
            let (mut got, mut refused) = (Vec::new(), Vec::new());
            for metric in metrics {
                match ask(vec![metric.to_string()]).await {
                    Ok(one) => got.extend(one),
                    Err(e) if e.refuses_a_metric() => {
                        refused.push((metric.to_string(), e.describe()))
                    }
                    Err(e) => return Err(e),
                }
            }
            Ok((got, refused))
        }
        Err(e) => Err(e),
    }
}
