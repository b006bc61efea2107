//! The whole UTC days inside a tenant's range.
use super::whole_days;
use chrono::{NaiveDate, TimeZone, Utc};

#[test]
fn whole_utc_days_inside_a_range() {
    let d = |n| NaiveDate::from_ymd_opt(2026, 11, n).unwrap();
    let at = |day, h, m| Utc.with_ymd_and_hms(2026, 11, day, h, m, 0).unwrap();
    // A UTC tenant's range is whole days.
    let (first, last, _, _) = whole_days(at(1, 0, 0), at(29, 0, 0)).unwrap();
    assert_eq!((first, last), (d(1), d(29)));
    // Tokyo's Nov 1–28: Oct 31 15:00 to Nov 28 15:00 UTC.
    let (first, last, first_at, last_at) = whole_days(
        Utc.with_ymd_and_hms(2026, 10, 31, 15, 0, 0).unwrap(),
        at(28, 15, 0),
    )
    .unwrap();
    assert_eq!((first, last), (d(1), d(28)));
    assert_eq!((first_at, last_at), (at(1, 0, 0), at(28, 0, 0)));
    // India's day (UTC+5:30) holds no whole UTC day.
    assert!(whole_days(at(1, 18, 30), at(2, 18, 30)).is_none());
}
