//! An analyst reads the insights: opens /insights, changes the range and the channel, sees the
//! charts (a screenshot under target/), downloads the CSV, and opens the messaging page.

use fantoccini::Locator;
use parley::auth::Role;

use crate::harness::{Browser, eventually};
use crate::support::{PASSWORD, app_with_sandbox};

async fn select(c: &fantoccini::Client, id: &str, value: &str) {
    c.find(Locator::Css(&format!("#{id} option[value='{value}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test]
async fn an_analyst_changes_range_and_channel_sees_charts_and_downloads_the_csv() {
    let (app, sandbox) = app_with_sandbox(2).await;
    let (tenant, _) = app
        .create_user("Acme", "an@acme.test", Role::Analyst, PASSWORD)
        .await;
    app.connect_sandbox_page(&sandbox, tenant).await;
    let outcomes = app.run_queued_jobs("refresh_insights").await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    let page = app.first_channel_id().await;

    let Some(browser) = Browser::start().await else {
        return;
    };
    let c = &browser.client;
    browser
        .sign_in_at(&app.url("/insights"), "an@acme.test", PASSWORD)
        .await;
    c.wait()
        .for_element(Locator::Id("insight-cards"))
        .await
        .unwrap();

    // Last 7 days, this Page only.
    select(c, "insights-range", "7").await;
    select(c, "insights-channel", &page.to_string()).await;
    c.find(Locator::Css("form.filters button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let moved = eventually(10, || async {
        c.current_url()
            .await
            .map(|u| {
                u.as_str().contains("range=7") && u.as_str().contains(&format!("channel={page}"))
            })
            .unwrap_or(false)
    })
    .await;
    assert!(moved, "the filters are in the URL");
    let charts = c
        .find_all(Locator::Css("#insight-cards svg.chart"))
        .await
        .unwrap();
    assert!(charts.len() >= 6, "{} charts", charts.len());
    let period = c
        .find(Locator::Css(".insights-period"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(period.contains("(7 days)"), "{period}");
    let shot = browser.screenshot("insights-overview").await;
    assert!(shot.exists());

    // The CSV the page links, fetched as the browser would download it.
    let csv = c
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(document.querySelector('a[download]').href).then(r => r.text()).then(done);",
            vec![],
        )
        .await
        .unwrap();
    let csv = csv.as_str().unwrap_or_default().to_string();
    assert!(csv.starts_with("table,metric,label,key,value"), "{csv}");
    assert!(csv.contains("\"series\",\"page_media_view\""));

    // The messaging page reads without JavaScript-only parts: its heatmap is drawn.
    c.find(Locator::LinkText("Messaging"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("svg.chart.heatmap"))
        .await
        .unwrap();
    browser.screenshot("insights-messaging").await;
}
