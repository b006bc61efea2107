//! The date range an insights page shows: the last 7, 28 or 90 days, this month, or a custom
//! range of at most two years, always compared with the period of the same length just before.
//! Days are whole days of the tenant's time zone.

use chrono::{Datelike, Duration, NaiveDate};
use serde::Deserialize;

/// The ranges offered by name, in days.
pub const PRESET_DAYS: [i64; 3] = [7, 28, 90];
/// The longest custom range (Meta keeps two years).
pub const MAX_DAYS: i64 = 730;

/// The range fields of an insights query (`range`, and `from`/`to` for a custom range).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PeriodQuery {
    pub range: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Which kind of range was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    LastDays(i64),
    ThisMonth,
    Custom,
}

/// Whole days `from..=to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub choice: Choice,
    /// Why a custom range was not taken (the page shows it beside the typed dates).
    pub error: Option<String>,
    /// The custom dates as typed, kept for the form when they were refused.
    pub typed: (String, String),
}

fn date(s: Option<&str>) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s?.trim(), "%Y-%m-%d").ok()
}

impl Period {
    /// The period the query asks for, ending at `last` (today, or yesterday for Meta's figures).
    /// A range that cannot be taken falls back to the last 28 days with an error to show.
    pub fn parse(query: &PeriodQuery, last: NaiveDate) -> Period {
        let typed = (
            query.from.clone().unwrap_or_default(),
            query.to.clone().unwrap_or_default(),
        );
        let days = |n: i64, choice| Period {
            from: last - Duration::days(n - 1),
            to: last,
            choice,
            error: None,
            typed: typed.clone(),
        };
        match query.range.as_deref().unwrap_or("28") {
            "month" => Period {
                from: last.with_day(1).unwrap_or(last),
                to: last,
                choice: Choice::ThisMonth,
                error: None,
                typed: typed.clone(),
            },
            "custom" => match (date(query.from.as_deref()), date(query.to.as_deref())) {
                (Some(from), Some(to)) if from > to => Period {
                    error: Some("The start date is after the end date.".into()),
                    ..days(28, Choice::LastDays(28))
                },
                (Some(from), Some(to)) if (to - from).num_days() >= MAX_DAYS => Period {
                    error: Some("A range can span at most two years.".into()),
                    ..days(28, Choice::LastDays(28))
                },
                (Some(from), Some(to)) => Period {
                    from,
                    to: to.min(last),
                    choice: Choice::Custom,
                    error: (to > last).then(|| format!("Figures end on {last}.")),
                    typed,
                },
                _ => Period {
                    error: Some("Enter both dates as YYYY-MM-DD.".into()),
                    ..days(28, Choice::LastDays(28))
                },
            },
            other => {
                let n = other
                    .parse()
                    .ok()
                    .filter(|n| PRESET_DAYS.contains(n))
                    .unwrap_or(28);
                days(n, Choice::LastDays(n))
            }
        }
    }

    /// How many days the period spans.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period of the same length just before this one.
    pub fn previous(&self) -> Period {
        let n = self.days();
        Period {
            from: self.from - Duration::days(n),
            to: self.from - Duration::days(1),
            choice: self.choice,
            error: None,
            typed: Default::default(),
        }
    }

    /// Every day of the period, oldest first.
    pub fn each_day(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        (0..self.days()).map(|i| self.from + Duration::days(i))
    }

    /// The value of the range selector.
    pub fn range_value(&self) -> String {
        match self.choice {
            Choice::LastDays(n) => n.to_string(),
            Choice::ThisMonth => "month".into(),
            Choice::Custom => "custom".into(),
        }
    }

    /// How the page names the period.
    pub fn label(&self) -> String {
        match self.choice {
            Choice::LastDays(n) => format!("last {n} days"),
            Choice::ThisMonth => "this month".into(),
            Choice::Custom => format!("{} – {}", self.from, self.to),
        }
    }

    /// The query pairs that ask for this period again (for links and the CSV).
    pub fn query_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = vec![("range", self.range_value())];
        if self.choice == Choice::Custom {
            pairs.push(("from", self.from.to_string()));
            pairs.push(("to", self.to.to_string()));
        }
        pairs
    }

    /// The custom "from" field's value: what was typed, or the period's own start.
    pub fn from_field(&self) -> String {
        if self.error.is_some() && !self.typed.0.is_empty() {
            self.typed.0.clone()
        } else {
            self.from.to_string()
        }
    }

    /// The custom "to" field's value: what was typed, or the period's own end.
    pub fn to_field(&self) -> String {
        if self.error.is_some() && !self.typed.1.is_empty() {
            self.typed.1.clone()
        } else {
            self.to.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(range: &str, from: &str, to: &str) -> PeriodQuery {
        PeriodQuery {
            range: Some(range.into()),
            from: Some(from.into()),
            to: Some(to.into()),
        }
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn presets_end_on_the_last_day_and_compare_with_the_same_length_before() {
        let p = Period::parse(&q("7", "", ""), d("2026-11-28"));
        assert_eq!(
            (p.from, p.to, p.days()),
            (d("2026-11-22"), d("2026-11-28"), 7)
        );
        let before = p.previous();
        assert_eq!((before.from, before.to), (d("2026-11-15"), d("2026-11-21")));
        let odd = Period::parse(&q("13", "", ""), d("2026-11-28"));
        assert_eq!(odd.choice, Choice::LastDays(28));
    }

    #[test]
    fn this_month_starts_on_the_first() {
        let p = Period::parse(&q("month", "", ""), d("2026-11-28"));
        assert_eq!((p.from, p.to), (d("2026-11-01"), d("2026-11-28")));
        assert_eq!(p.previous().from, d("2026-10-04"));
    }

    #[test]
    fn custom_ranges_are_checked_and_keep_what_was_typed() {
        let p = Period::parse(&q("custom", "2026-01-01", "2026-01-31"), d("2026-11-28"));
        assert_eq!(
            (p.from, p.to, p.choice),
            (d("2026-01-01"), d("2026-01-31"), Choice::Custom)
        );
        assert!(p.error.is_none());
        let back = Period::parse(&q("custom", "2026-02-01", "2026-01-01"), d("2026-11-28"));
        assert!(back.error.is_some());
        assert_eq!(back.choice, Choice::LastDays(28));
        assert_eq!(back.from_field(), "2026-02-01");
        let long = Period::parse(&q("custom", "2020-01-01", "2026-01-01"), d("2026-11-28"));
        assert!(long.error.unwrap().contains("two years"));
        let bad = Period::parse(&q("custom", "yesterday", ""), d("2026-11-28"));
        assert_eq!(bad.from_field(), "yesterday");
        let future = Period::parse(&q("custom", "2026-11-01", "2026-12-31"), d("2026-11-28"));
        assert_eq!(future.to, d("2026-11-28"));
    }
}
