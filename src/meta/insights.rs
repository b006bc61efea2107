//! Page, Instagram account and media insights.

use serde::Deserialize;

use crate::meta::client::{Auth, Call, GraphClient};
use crate::meta::error::GraphError;
use crate::meta::paging::Paged;
use crate::meta::token::AccessToken;

/// One point of a time series; `value` is a number or, for breakdowns, an object.
#[derive(Debug, Clone, Deserialize)]
pub struct InsightValue {
    #[serde(default)]
    pub value: serde_json::Value,
    #[serde(default)]
    pub end_time: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct BreakdownResult {
    #[serde(default)]
    pub dimension_values: Vec<String>,
    #[serde(default)]
    pub value: serde_json::Value,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Breakdown {
    #[serde(default)]
    pub dimension_keys: Vec<String>,
    #[serde(default)]
    pub results: Vec<BreakdownResult>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TotalValue {
    #[serde(default)]
    pub value: serde_json::Value,
    #[serde(default)]
    pub breakdowns: Vec<Breakdown>,
}

/// One metric of an insights answer (time series or total value).
#[derive(Debug, Clone, Deserialize)]
pub struct InsightMetric {
    pub name: String,
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub values: Vec<InsightValue>,
    #[serde(default)]
    pub total_value: Option<TotalValue>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

/// What an Instagram account insights request asks for.
#[derive(Debug, Clone, Copy)]
pub struct IgInsightsQuery<'a> {
    pub metrics: &'a [&'a str],
    /// `day`, `lifetime`, ...
    pub period: &'a str,
    /// `time_series` or `total_value`.
    pub metric_type: &'a str,
    pub breakdown: Option<&'a str>,
    /// Demographics' window (`this_month`, `this_week`).
    pub timeframe: Option<&'a str>,
    pub range: Option<Range>,
}

/// A date range in unix seconds (Meta allows at most 90 days per Page insights request).
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub since: i64,
    pub until: i64,
}

impl GraphClient {
    /// `GET /{page-id}/insights` (empty when Meta has no data: that is not zero).
    pub async fn page_insights(
        &self,
        page_id: &str,
        token: &AccessToken,
        metrics: &[&str],
        period: &str,
        range: Range,
    ) -> Result<Vec<InsightMetric>, GraphError> {
        let call = Call::get(format!("{page_id}/insights"), Auth::Token(token))
            .query("metric", metrics.join(","))
            .query("period", period)
            .query("since", range.since.to_string())
            .query("until", range.until.to_string())
            .budget(page_id);
        self.call::<Paged<InsightMetric>>(call)
            .await
            .map(|p| p.data)
    }

    /// `GET /{ig-user-id}/insights`.
    pub async fn instagram_insights(
        &self,
        ig_id: &str,
        token: &AccessToken,
        q: &IgInsightsQuery<'_>,
    ) -> Result<Vec<InsightMetric>, GraphError> {
        let mut call = Call::get(format!("{ig_id}/insights"), Auth::Token(token))
            .query("metric", q.metrics.join(","))
            .query("period", q.period)
            .query("metric_type", q.metric_type)
            .query_opt("breakdown", q.breakdown)
            .query_opt("timeframe", q.timeframe)
            .budget(ig_id);
        if let Some(range) = q.range {
            call = call
                .query("since", range.since.to_string())
                .query("until", range.until.to_string());
        }
        self.call::<Paged<InsightMetric>>(call)
            .await
            .map(|p| p.data)
    }

    /// An Instagram account's follower count (`GET /{ig-user-id}?fields=followers_count`).
    pub async fn instagram_followers(
        &self,
        ig_id: &str,
        token: &AccessToken,
    ) -> Result<Option<i64>, GraphError> {
        #[derive(Deserialize)]
        struct Followers {
            #[serde(default)]
            followers_count: Option<i64>,
        }
        let call = Call::get(ig_id.to_string(), Auth::Token(token))
            .query("fields", "followers_count")
            .budget(ig_id);
        self.call::<Followers>(call)
            .await
            .map(|f| f.followers_count)
    }

    /// `GET /{media-id}/insights` (lifetime totals of one post, reel or story), with an optional
    /// breakdown (`story_navigation_action_type` for a story's `navigation`).
    pub async fn media_insights(
        &self,
        media_id: &str,
        token: &AccessToken,
        ig_id: &str,
        metrics: &[&str],
        breakdown: Option<&str>,
    ) -> Result<Vec<InsightMetric>, GraphError> {
        let call = Call::get(format!("{media_id}/insights"), Auth::Token(token))
            .query("metric", metrics.join(","))
            .query_opt("breakdown", breakdown.map(String::from))
            .budget(ig_id);
        self.call::<Paged<InsightMetric>>(call)
            .await
            .map(|p| p.data)
    }

    /// `GET /{page-post-id}/insights?period=lifetime` (lifetime totals of one Page post).
    pub async fn post_insights(
        &self,
        post_id: &str,
        token: &AccessToken,
        page_id: &str,
        metrics: &[&str],
    ) -> Result<Vec<InsightMetric>, GraphError> {
        let call = Call::get(format!("{post_id}/insights"), Auth::Token(token))
            .query("metric", metrics.join(","))
            .query("period", "lifetime")
            .budget(page_id);
        self.call::<Paged<InsightMetric>>(call)
            .await
            .map(|p| p.data)
    }
}
