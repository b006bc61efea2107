//! Cursor pagination: `{data: [...], paging: {cursors: {before, after}, next}}`.

use futures_util::Stream;
use serde::Deserialize;

use crate::meta::error::GraphError;

/// One page of a Graph list.
#[derive(Debug, Clone, Deserialize)]
pub struct Paged<T> {
    #[serde(default = "Vec::new")]
    pub data: Vec<T>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Paging {
    #[serde(default)]
    pub cursors: Option<Cursors>,
    /// Full URL of the next page (it carries the token, so Parley never follows or logs it: it
    /// asks again with the `after` cursor instead).
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Cursors {
    #[serde(default)]
    pub before: Option<String>,
    #[serde(default)]
    pub after: Option<String>,
}

impl<T> Paged<T> {
    /// The cursor of the next page, if there is one.
    pub fn next_cursor(&self) -> Option<String> {
        let paging = self.paging.as_ref()?;
        paging.next.as_ref()?;
        paging.cursors.as_ref()?.after.clone()
    }
}

/// Pages as a stream: `fetch(None)` for the first, then `fetch(Some(after))` while Meta says
/// there is a next page, at most `max_pages`.
pub fn pages<T, F, Fut>(
    fetch: F,
    max_pages: usize,
) -> impl Stream<Item = Result<Vec<T>, GraphError>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Paged<T>, GraphError>>,
{
    struct State<F> {
        fetch: F,
        cursor: Option<String>,
        fetched: usize,
        done: bool,
    }
    futures_util::stream::unfold(
        State {
            fetch,
            cursor: None,
            fetched: 0,
            done: false,
        },
        move |mut st| async move {
            if st.done || st.fetched >= max_pages {
                return None;
            }
            let result = (st.fetch)(st.cursor.take()).await;
            st.fetched += 1;
            match result {
                Ok(page) => {
                    st.cursor = page.next_cursor();
                    st.done = st.cursor.is_none();
                    Some((Ok(page.data), st))
                }
                Err(e) => {
                    st.done = true;
                    Some((Err(e), st))
                }
            }
        },
    )
}

/// Collects every item of every page (at most `max_pages`).
pub async fn collect_all<T, F, Fut>(fetch: F, max_pages: usize) -> Result<Vec<T>, GraphError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Paged<T>, GraphError>>,
{
    use futures_util::StreamExt;
    let stream = pages(fetch, max_pages);
    futures_util::pin_mut!(stream);
    let mut all = Vec::new();
    while let Some(page) = stream.next().await {
        all.extend(page?);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn follows_after_cursors_until_no_next() {
        let fetch = |cursor: Option<String>| async move {
            let n: usize = cursor.map(|c| c.parse().unwrap()).unwrap_or(0);
            let json = if n < 2 {
                format!(
                    r#"{{"data":[{n}],"paging":{{"cursors":{{"after":"{}"}},"next":"https://x"}}}}"#,
                    n + 1
                )
            } else {
                format!(r#"{{"data":[{n}],"paging":{{"cursors":{{"after":"zzz"}}}}}}"#)
            };
            Ok::<Paged<usize>, GraphError>(serde_json::from_str(&json).unwrap())
        };
        assert_eq!(collect_all(fetch, 10).await.unwrap(), vec![0, 1, 2]);
        assert_eq!(collect_all(fetch, 2).await.unwrap(), vec![0, 1], "bounded");
    }
}
