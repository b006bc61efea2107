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
    lines(title, &[points])
}

/// Several daily series on shared axes: the first drawn solid, the others dashed.
pub fn lines(title: &str, series: &[&[(NaiveDate, i64)]]) -> String {
    let all = || series.iter().flat_map(|s| s.iter());
    let (Some(first), Some(last)) = (all().map(|p| p.0).min(), all().map(|p| p.0).max()) else {
        return String::new();
    };
    let span = (last - first).num_days().max(1) as f64;
    let max = all().map(|p| p.1).max().unwrap_or(0).max(1) as f64;
    let x = |d: NaiveDate| LEFT + (d - first).num_days() as f64 / span * (WIDTH - LEFT - 8.0);
    let y = |v: i64| TOP + (1.0 - v as f64 / max) * (HEIGHT - TOP - BOTTOM);
    let polylines: String = series
        .iter()
        .enumerate()
        .map(|(i, points)| {
            let path: Vec<String> = points
                .iter()
                .map(|(d, v)| format!("{:.1},{:.1}", x(*d), y(*v)))
                .collect();
            let class = if i == 0 { "series" } else { "series-out" };
            format!(r#"<polyline points="{}" class="{class}"/>"#, path.join(" "))
        })
        .collect();
    let title = escape(title);
    format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title><line x1="{LEFT}" y1="{base}" x2="{right}" y2="{base}" class="axis"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" class="axis"/><text x="{lx}" y="{ty}" class="tick" text-anchor="end">{max}</text><text x="{lx}" y="{base}" class="tick" text-anchor="end">0</text><text x="{LEFT}" y="{dy}" class="tick">{from}</text><text x="{right}" y="{dy}" class="tick" text-anchor="end">{to}</text>{polylines}</svg>"#,
        base = HEIGHT - BOTTOM,
        right = WIDTH - 8.0,
        lx = LEFT - 4.0,
        ty = TOP + 8.0,
        dy = HEIGHT - 6.0,
        max = max as i64,
        from = first.format("%b %-d"),
        to = last.format("%b %-d"),
    )
}

/// A day-of-week by hour-of-day grid, each cell shaded by its share of the busiest cell and
/// titled with its count (a hover shows it; the page lists the numbers in a table too).
pub fn heatmap(title: &str, cells: &[[i64; 24]; 7]) -> String {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let (cell, left, top) = (20.0, 36.0, 16.0);
    let max = cells.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    let mut body = String::new();
    for (d, row) in cells.iter().enumerate() {
        let y = top + d as f64 * cell;
        body.push_str(&format!(
            r#"<text x="{}" y="{}" class="tick" text-anchor="end">{}</text>"#,
            left - 4.0,
            y + 14.0,
            DAYS[d]
        ));
        for (h, n) in row.iter().enumerate() {
            let opacity = if *n == 0 {
                0.04
            } else {
                0.15 + 0.85 * (*n as f64 / max)
            };
            body.push_str(&format!(
                r#"<rect x="{:.0}" y="{y:.0}" width="{w}" height="{w}" class="cell" fill-opacity="{opacity:.2}"><title>{} {h:02}:00 – {n}</title></rect>"#,
                left + h as f64 * cell,
                DAYS[d],
                w = cell - 2.0,
            ));
        }
    }
    for h in (0..24).step_by(3) {
        body.push_str(&format!(
            r#"<text x="{:.0}" y="{}" class="tick">{h:02}</text>"#,
            left + h as f64 * cell,
            top - 4.0
        ));
    }
    let title = escape(title);
    format!(
        r#"<svg class="chart heatmap" viewBox="0 0 {w} {h}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>{body}</svg>"#,
        w = left + 24.0 * cell,
        h = top + 7.0 * cell + 4.0,
    )
}

/// Horizontal bars, one per labelled value (breakdowns), longest first as given.
pub fn bars(title: &str, values: &[(String, i64)]) -> String {
    if values.is_empty() {
        return String::new();
    }
    let (row, left, width) = (18.0, 140.0, 400.0);
    let max = values.iter().map(|v| v.1).max().unwrap_or(0).max(1) as f64;
    let mut body = String::new();
    for (i, (label, value)) in values.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        let w = (*value as f64 / max * (width - 60.0)).max(1.0);
        body.push_str(&format!(
            r#"<text x="{}" y="{:.0}" class="tick" text-anchor="end">{}</text><rect x="{left}" y="{y:.0}" width="{w:.1}" height="{}" class="bar"/><text x="{:.1}" y="{:.0}" class="tick">{value}</text>"#,
            left - 6.0,
            y + 12.0,
            escape(label),
            row - 6.0,
            left + w + 4.0,
            y + 12.0,
        ));
    }
    let title = escape(title);
    format!(
        r#"<svg class="chart bars" viewBox="0 0 {width} {h}" role="img" aria-label="{title}" xmlns="http://www.w3.org/2000/svg"><title>{title}</title>{body}</svg>"#,
        h = values.len() as f64 * row + 8.0,
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

    #[test]
    fn a_heatmap_has_a_cell_per_hour_of_the_week_and_bars_one_per_value() {
        let mut cells = [[0i64; 24]; 7];
        cells[0][9] = 12;
        let svg = heatmap("Incoming", &cells);
        assert_eq!(svg.matches("<rect").count(), 7 * 24);
        assert!(svg.contains("<title>Mon 09:00 – 12</title>"));
        let b = bars("By country", &[("PT".into(), 40), ("<US>".into(), 10)]);
        assert_eq!(b.matches("<rect").count(), 2);
        assert!(b.contains("&lt;US&gt;"));
        assert!(bars("None", &[]).is_empty());
    }
}
