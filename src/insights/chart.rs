//! Line charts drawn on the server as SVG: readable without JavaScript, printable, with a title
//! and labelled axes (the page also lists the values in a table).

use chrono::NaiveDate;

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 180.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 12.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A line chart of daily values (days without a value break nothing: the line joins the points
/// it has). Empty when there are no points.
pub fn line(title: &str, points: &[(NaiveDate, i64)]) -> String {
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return String::new();
    };
    let span = (last.0 - first.0).num_days().max(1) as f64;
    let max = points.iter().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let x = |d: NaiveDate| LEFT + (d - first.0).num_days() as f64 / span * (WIDTH - LEFT - 8.0);
    let y = |v: i64| TOP + (1.0 - v as f64 / max) * (HEIGHT - TOP - BOTTOM);
    let path: Vec<String> = points
        .iter()
        .map(|(d, v)| format!("{:.1},{:.1}", x(*d), y(*v)))
        .collect();
    let title = escape(title);
    format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title><line x1="{LEFT}" y1="{base}" x2="{right}" y2="{base}" class="axis"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" class="axis"/><text x="{lx}" y="{ty}" class="tick" text-anchor="end">{max}</text><text x="{lx}" y="{base}" class="tick" text-anchor="end">0</text><text x="{LEFT}" y="{dy}" class="tick">{from}</text><text x="{right}" y="{dy}" class="tick" text-anchor="end">{to}</text><polyline points="{points}" class="series"/></svg>"#,
        base = HEIGHT - BOTTOM,
        right = WIDTH - 8.0,
        lx = LEFT - 4.0,
        ty = TOP + 8.0,
        dy = HEIGHT - 6.0,
        max = max as i64,
        from = first.0.format("%b %-d"),
        to = last.0.format("%b %-d"),
        points = path.join(" "),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_has_its_title_axes_and_one_point_per_day() {
        let d = |n| NaiveDate::from_ymd_opt(2026, 11, n).unwrap();
        let svg = line("Reach <daily>", &[(d(1), 10), (d(2), 30), (d(3), 20)]);
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("<title>Reach &lt;daily&gt;</title>"));
        assert_eq!(svg.matches(',').count(), 3, "{svg}");
        assert!(
            svg.contains(">30<"),
            "the top of the axis is the largest value"
        );
        assert!(line("Empty", &[]).is_empty());
    }
}
