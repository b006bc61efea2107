//! Meta's usage headers (`X-App-Usage`, `X-Page-Usage`, `X-Business-Use-Case-Usage`) and the
//! tracker that slows Parley down before Meta starts refusing.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::telemetry::figures;

/// Percentages of one budget over Meta's rolling window (0–100, may exceed 100).
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq)]
pub struct UsagePercent {
    #[serde(default)]
    pub call_count: f64,
    #[serde(default)]
    pub total_cputime: f64,
    #[serde(default)]
    pub total_time: f64,
}

impl UsagePercent {
    /// The highest of the three figures: the one that will run out first.
    pub fn max(&self) -> f64 {
        self.call_count.max(self.total_cputime).max(self.total_time)
    }
}

/// One entry of `X-Business-Use-Case-Usage`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct BusinessUseCaseUsage {
    #[serde(default, rename = "type")]
    pub use_case: String,
    #[serde(flatten)]
    pub usage: UsagePercent,
    /// Minutes (not seconds) until calls are allowed again.
    #[serde(default)]
    pub estimated_time_to_regain_access: f64,
}

/// Everything the usage headers of one response said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageReport {
    pub app: Option<UsagePercent>,
    pub page: Option<UsagePercent>,
    /// By business object id (Page, IG account, WABA…).
    pub business: HashMap<String, Vec<BusinessUseCaseUsage>>,
}

impl UsageReport {
    /// Reads the usage headers; malformed ones are ignored (they only tune our pace).
    pub fn from_headers(headers: &reqwest::header::HeaderMap) -> UsageReport {
        let json = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        UsageReport {
            app: json("x-app-usage").and_then(|s| serde_json::from_str(&s).ok()),
            page: json("x-page-usage").and_then(|s| serde_json::from_str(&s).ok()),
            business: json("x-business-use-case-usage")
                .and_then(|s| serde_json::from_str(&s).ok())
                .unwrap_or_default(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.app.is_none() && self.page.is_none() && self.business.is_empty()
    }
}

/// How to pace the next call against one budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    Go,
    /// Wait this long, then call.
    Delay(Duration),
    /// Do not call until this much time has passed (a job should be rescheduled).
    Blocked(Duration),
}

/// The pace for a budget at `percent` use with `regain_minutes` announced by Meta. A high
/// percentage alone only slows calls down: Meta's figure lags, and only a refusal (or a regain
/// time) stops them.
pub fn pace_for(percent: f64, regain_minutes: f64) -> Pace {
    if regain_minutes > 0.0 {
        return Pace::Blocked(Duration::from_secs_f64(regain_minutes * 60.0));
    }
    if percent >= 95.0 {
        Pace::Delay(Duration::from_millis(2_000))
    } else if percent >= 85.0 {
        Pace::Delay(Duration::from_millis(500))
    } else if percent >= 75.0 {
        Pace::Delay(Duration::from_millis(100))
    } else {
        Pace::Go
    }
}

/// The first pause after a refusal without a regain time; it doubles with each further refusal.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(2);
/// The longest pause after refusals without a regain time.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long one probing call may take before another call may probe instead.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
struct Budget {
    percent: f64,
    seen: Instant,
    /// No call until then (Meta's regain time, or our backoff after a refusal).
    blocked_until: Option<Instant>,
    /// Refusals in a row without a regain time: each doubles the next backoff.
    refusals: u32,
    /// Once a block has passed, one call probes; the others wait until it is accepted.
    probing_until: Option<Instant>,
}

impl Budget {
    fn new(now: Instant) -> Budget {
        Budget {
            percent: 0.0,
            seen: now,
            blocked_until: None,
            refusals: 0,
            probing_until: None,
        }
    }
}

/// Usage per budget key, shared by all calls of a process: `"app"` (app- and user-token calls,
/// paced by `X-App-Usage`) or a business object id (Page-token and WhatsApp calls, paced by their
/// own `X-Business-Use-Case-Usage` entry). One Page's refusals never slow another's calls.
#[derive(Debug, Default)]
pub struct UsageTracker {
    budgets: Mutex<HashMap<String, Budget>>,
}

/// Reports older than this no longer slow us down (Meta's window is one rolling hour, and each
/// fresh response brings a fresh report).
const STALE_AFTER: Duration = Duration::from_secs(300);

/// The budget keys a call counts against: its business objects, or the app when it has none.
pub fn budget_keys(business_objects: &[String]) -> Vec<&str> {
    if business_objects.is_empty() {
        vec!["app"]
    } else {
        business_objects.iter().map(String::as_str).collect()
    }
}

/// A business use case as a figure's label: Meta's documented types, anything else `other`
/// (the header is Meta's to change; the series must stay few).
fn use_case_label(use_case: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "messenger",
        "instagram",
        "whatsapp_business_management",
        "pages",
        "ads_management",
        "ads_insights",
        "custom_audience",
        "instagram_shopping",
        "leadgen",
    ];
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(use_case))
        .copied()
        .unwrap_or("other")
}

impl UsageTracker {
    /// Records what a response's headers said; `keys` are the call's budgets (`X-Page-Usage`
    /// speaks of the call's Page).
    pub fn record(&self, report: &UsageReport, keys: &[&str]) {
        if report.is_empty() {
            return;
        }
        let Ok(mut budgets) = self.budgets.lock() else {
            return;
        };
        let now = Instant::now();
        let mut put = |key: &str, percent: f64, regain_minutes: f64| {
            let b = budgets
                .entry(key.to_string())
                .or_insert_with(|| Budget::new(now));
            b.percent = percent;
            b.seen = now;
            if regain_minutes > 0.0 {
                b.blocked_until = Some(now + Duration::from_secs_f64(regain_minutes * 60.0));
                b.probing_until = None;
            }
        };
        if let Some(app) = report.app {
            put("app", app.max(), 0.0);
            figures::meta_usage("app", app.max());
        }
        if let Some(page) = report.page {
            for key in keys.iter().filter(|k| **k != "app") {
                put(key, page.max(), 0.0);
            }
            figures::meta_usage("page", page.max());
        }
        for entry in report.business.values().flatten() {
            figures::meta_usage(use_case_label(&entry.use_case), entry.usage.max());
        }
        for (id, entries) in &report.business {
            let percent = entries.iter().map(|e| e.usage.max()).fold(0.0, f64::max);
            let regain = entries
                .iter()
                .map(|e| e.estimated_time_to_regain_access)
                .fold(0.0, f64::max);
            put(id, percent, regain);
        }
    }

    /// How much of `key`'s budget Meta last reported as used (100 while it is blocked); `None`
    /// when nothing recent is known.
    pub fn used(&self, key: &str) -> Option<f64> {
        let budgets = self.budgets.lock().ok()?;
        let b = budgets.get(key)?;
        let now = Instant::now();
        if b.blocked_until.is_some_and(|until| until > now) {
            return Some(100.0);
        }
        (now.duration_since(b.seen) <= STALE_AFTER).then_some(b.percent)
    }

    /// Meta refused a call on `keys` as rate-limited: no call on them until `retry_after` when
    /// Meta said, else for a backoff that starts at [`FIRST_BACKOFF`] and doubles per refusal.
    pub fn refused(&self, keys: &[&str], retry_after: Option<Duration>) {
        let Ok(mut budgets) = self.budgets.lock() else {
            return;
        };
        let now = Instant::now();
        for key in keys {
            let b = budgets
                .entry((*key).to_string())
                .or_insert_with(|| Budget::new(now));
            let pause = retry_after.unwrap_or_else(|| {
                FIRST_BACKOFF
                    .saturating_mul(1 << b.refusals.min(6))
                    .min(MAX_BACKOFF)
            });
            b.refusals = b.refusals.saturating_add(1);
            b.blocked_until = Some(now + pause);
            b.probing_until = None;
            b.seen = now;
        }
    }

    /// Meta accepted a call on `keys`: a block set by refusals is over (the figure that came
    /// with the refusal is disproved; the answer's own headers are recorded next). A block from
    /// a regain time Meta announced stands until that time.
    pub fn accepted(&self, keys: &[&str]) {
        let Ok(mut budgets) = self.budgets.lock() else {
            return;
        };
        for key in keys {
            if let Some(b) = budgets.get_mut(*key)
                && b.refusals > 0
            {
                b.blocked_until = None;
                b.percent = 0.0;
                b.refusals = 0;
            }
            if let Some(b) = budgets.get_mut(*key) {
                b.probing_until = None;
            }
        }
    }

    /// A call on `keys` got no answer: if it was the probe, another call may probe.
    pub fn probe_ended(&self, keys: &[&str]) {
        let Ok(mut budgets) = self.budgets.lock() else {
            return;
        };
        for key in keys {
            if let Some(b) = budgets.get_mut(*key) {
                b.probing_until = None;
            }
        }
    }

    /// The pace for a call that counts against `keys` (the slowest budget wins). After a block,
    /// the first call asking is let through as a probe, and the others wait for its answer.
    pub fn pace(&self, keys: &[&str]) -> Pace {
        let Ok(mut budgets) = self.budgets.lock() else {
            return Pace::Go;
        };
        let now = Instant::now();
        let mut worst = Pace::Go;
        let mut probes = Vec::new();
        for key in keys {
            let Some(b) = budgets.get(*key) else { continue };
            let pace = match (b.blocked_until, b.probing_until) {
                (Some(until), _) if until > now => Pace::Blocked(until - now),
                (Some(_), Some(probing)) if probing > now => {
                    Pace::Blocked(FIRST_BACKOFF.min(probing - now))
                }
                (Some(_), _) => {
                    probes.push(*key);
                    Pace::Go
                }
                (None, _) if now.duration_since(b.seen) > STALE_AFTER => Pace::Go,
                (None, _) => pace_for(b.percent, 0.0),
            };
            worst = slower(worst, pace);
        }
        if !matches!(worst, Pace::Blocked(_)) {
            for key in probes {
                if let Some(b) = budgets.get_mut(key) {
                    b.probing_until = Some(now + PROBE_TIMEOUT);
                }
            }
        }
        worst
    }
}

fn slower(a: Pace, b: Pace) -> Pace {
    fn rank(p: &Pace) -> (u8, Duration) {
        match p {
            Pace::Go => (0, Duration::ZERO),
            Pace::Delay(d) => (1, *d),
            Pace::Blocked(d) => (2, *d),
        }
    }
    if rank(&b) > rank(&a) { b } else { a }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};

    #[test]
    fn parses_all_three_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-app-usage",
            HeaderValue::from_static(r#"{"call_count":28,"total_time":25,"total_cputime":25}"#),
        );
        h.insert(
            "x-page-usage",
            HeaderValue::from_static(r#"{"call_count":91,"total_time":5,"total_cputime":5}"#),
        );
        h.insert(
            "x-business-use-case-usage",
            HeaderValue::from_static(r#"{"1015":[{"type":"pages","call_count":97,"total_cputime":23,"total_time":23,"estimated_time_to_regain_access":3}]}"#),
        );
        let r = UsageReport::from_headers(&h);
        assert_eq!(r.app.unwrap().max(), 28.0);
        assert_eq!(r.page.unwrap().call_count, 91.0);
        let b = &r.business["1015"][0];
        assert_eq!(b.use_case, "pages");
        assert_eq!(b.estimated_time_to_regain_access, 3.0);
    }

    #[test]
    fn the_meta_example_header_values_parse() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/meta-examples");
        let (Ok(app), Ok(buc)) = (
            std::fs::read_to_string(dir.join("header_x_app_usage_value.json")),
            std::fs::read_to_string(dir.join("header_x_business_use_case_usage_value.json")),
        ) else {
            // Under CI shared/ is always laid beside the checkout: its absence is a failure.
            assert!(
                std::env::var_os("CI").is_none(),
                "meta-examples missing under CI"
            );
            eprintln!("SKIPPED: meta-examples not found beside the checkout");
            return;
        };
        let mut h = HeaderMap::new();
        let compact = |s: &str| {
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(s).unwrap()).unwrap()
        };
        h.insert(
            "x-app-usage",
            HeaderValue::from_str(&compact(&app)).unwrap(),
        );
        h.insert(
            "x-business-use-case-usage",
            HeaderValue::from_str(&compact(&buc)).unwrap(),
        );
        let r = UsageReport::from_headers(&h);
        assert!(r.app.is_some());
        assert!(!r.business.is_empty());
    }

    #[test]
    fn pace_slows_then_blocks() {
        assert_eq!(pace_for(10.0, 0.0), Pace::Go);
        assert!(matches!(pace_for(80.0, 0.0), Pace::Delay(_)));
        assert!(
            matches!(pace_for(100.0, 0.0), Pace::Delay(_)),
            "a lagging figure only slows"
        );
        assert_eq!(
            pace_for(20.0, 2.0),
            Pace::Blocked(Duration::from_secs(120)),
            "minutes, not seconds"
        );
    }

    #[test]
    fn tracker_uses_the_slowest_budget_for_the_keys_asked() {
        let t = UsageTracker::default();
        let mut r = UsageReport::default();
        r.business.insert(
            "page1".into(),
            vec![BusinessUseCaseUsage {
                use_case: "pages".into(),
                usage: UsagePercent {
                    call_count: 99.0,
                    ..Default::default()
                },
                estimated_time_to_regain_access: 0.0,
            }],
        );
        r.app = Some(UsagePercent {
            call_count: 10.0,
            ..Default::default()
        });
        t.record(&r, &["page1"]);
        assert_eq!(t.pace(&["app"]), Pace::Go);
        assert!(matches!(t.pace(&["app", "page1"]), Pace::Delay(_)));
        assert_eq!(t.pace(&["other"]), Pace::Go);
    }

    #[test]
    fn a_refusal_blocks_only_its_budget_then_one_probe_goes_first() {
        let t = UsageTracker::default();
        t.refused(&["page1"], None);
        assert!(matches!(t.pace(&["page1"]), Pace::Blocked(d) if d <= FIRST_BACKOFF));
        assert_eq!(t.pace(&["page2"]), Pace::Go, "another Page is not slowed");
        assert_eq!(t.pace(&["app"]), Pace::Go);
        // Once the pause is over, one call probes and the others wait for its answer.
        t.refused(&["page1"], Some(Duration::ZERO));
        assert_eq!(t.pace(&["page1"]), Pace::Go);
        assert!(matches!(t.pace(&["page1"]), Pace::Blocked(_)));
        t.accepted(&["page1"]);
        assert_eq!(t.pace(&["page1"]), Pace::Go);
        // Refusals in a row double the pause, up to a minute.
        for _ in 0..10 {
            t.refused(&["page1"], None);
        }
        assert!(
            matches!(t.pace(&["page1"]), Pace::Blocked(d) if d > Duration::from_secs(50) && d <= MAX_BACKOFF)
        );
    }
}
