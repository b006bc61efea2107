//! Reading Parley's own (and the sandbox's) HTML pages like a browser does: form fields, form
//! actions, text under a CSS selector. One parser (the `scraper` crate, html5ever underneath) for
//! the demo's wizard driver and for the tests, so neither matches text in the wrong place.

use scraper::{ElementRef, Html, Selector};

/// A parsed HTML page or fragment.
pub struct HtmlPage {
    document: Html,
}

impl HtmlPage {
    /// Parses a whole document (a fragment parses fine too: html5ever adds the missing parts).
    pub fn parse(html: &str) -> Self {
        Self {
            document: Html::parse_document(html),
        }
    }

    /// Elements matching a CSS selector, in page order; an invalid selector matches nothing.
    pub fn select<'a>(&'a self, css: &str) -> Vec<ElementRef<'a>> {
        match Selector::parse(css) {
            Ok(selector) => self.document.select(&selector).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// How many elements match `css`.
    pub fn count(&self, css: &str) -> usize {
        self.select(css).len()
    }

    /// The text of each element matching `css`, whitespace collapsed.
    pub fn texts(&self, css: &str) -> Vec<String> {
        self.select(css).into_iter().map(text_of).collect()
    }

    /// The text of the first element matching `css`.
    pub fn text(&self, css: &str) -> Option<String> {
        self.select(css).into_iter().next().map(text_of)
    }

    /// The values of `attribute` on the elements matching `css`.
    pub fn attrs(&self, css: &str, attribute: &str) -> Vec<String> {
        self.select(css)
            .into_iter()
            .filter_map(|e| e.value().attr(attribute).map(str::to_string))
            .collect()
    }

    /// The `value` of every `<input name="field">`, in page order (checkboxes included).
    pub fn input_values(&self, field: &str) -> Vec<String> {
        self.select("input")
            .into_iter()
            .filter(|e| e.value().attr("name") == Some(field))
            .filter_map(|e| e.value().attr("value").map(str::to_string))
            .collect()
    }

    /// The CSRF token a form on this page carries.
    pub fn csrf_token(&self) -> Option<String> {
        self.input_values("csrf_token").into_iter().next()
    }

    /// The `action` of the first form (entities decoded, as a browser would post it).
    pub fn form_action(&self) -> Option<String> {
        self.attrs("form[action]", "action").into_iter().next()
    }
}

/// An element's text with runs of whitespace collapsed to one space.
pub fn text_of(element: ElementRef<'_>) -> String {
    element
        .text()
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_actions_and_text_in_their_place() {
        let page = HtmlPage::parse(
            r#"<p>name="page" value="decoy"</p>
               <form action="/connect?a=1&amp;b=2" method="post">
                 <input type="hidden" name="csrf_token" value="tok">
                 <input type="checkbox" name="page" value="1">
                 <input type="checkbox" name="page" value="2">
               </form>
               <ul><li class="row"> Ada
                 Lovelace </li><li class="row">Bob</li></ul>"#,
        );
        assert_eq!(page.input_values("page"), ["1", "2"]);
        assert_eq!(page.csrf_token().as_deref(), Some("tok"));
        assert_eq!(page.form_action().as_deref(), Some("/connect?a=1&b=2"));
        assert_eq!(page.texts("li.row"), ["Ada Lovelace", "Bob"]);
        assert_eq!(page.count("li"), 2);
        assert!(page.select("[[bad").is_empty());
    }
}
