//! Page addresses, built in one place for pages, emails and redirects.

/// Percent-encodes a text (a path, a search) for use as a query value.
pub(crate) fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
