//! `parley bench`: reproducible performance measurements, reported beside the machine's own
//! ceilings measured in the same run so the figures survive a noisy machine.

pub mod ceilings;
#[cfg(feature = "sandbox")]
mod comment_rules;
pub mod comments;
pub mod inbox;
pub mod insights;
pub mod load;
pub mod setup;
pub mod templates;
pub mod webhooks;
pub mod webhooks_report;

/// Percentile (0–100) of sorted samples.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

#[cfg(test)]
mod tests {
    #[test]
    fn percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(super::percentile(&v, 50.0), 51.0);
        assert_eq!(super::percentile(&v, 99.0), 99.0);
        assert_eq!(super::percentile(&[], 99.0), 0.0);
    }
}
