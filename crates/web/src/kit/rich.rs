//! Message text as HTML: everything escaped, line breaks kept, and http(s) addresses made into
//! links — the only formatting messages have. The text itself is stored exactly as written.

/// Escapes text for HTML element content and attribute values.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Where a web address that starts at `at` ends: at whitespace or a character that cannot
/// be part of one, less trailing punctuation that belongs to the sentence.
fn link_end(text: &str, at: usize) -> usize {
    let rest = &text[at..];
    let mut end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '`') || c.is_control())
        .unwrap_or(rest.len());
    while let Some(last) = rest[..end].chars().last() {
        if matches!(last, '.' | ',' | ';' | ':' | '!' | '?' | ')' | '\'') {
            end -= last.len_utf8();
        } else {
            break;
        }
    }
    at + end
}

/// The HTML of a message body.
pub(crate) fn to_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let starts_word = i == 0
            || text[..i]
                .chars()
                .last()
                .is_some_and(|c| c.is_whitespace() || c == '(');
        let scheme = ["https://", "http://"]
            .into_iter()
            .find(|s| rest.len() >= s.len() && rest[..s.len()].eq_ignore_ascii_case(s));
        if let (true, Some(scheme)) = (starts_word, scheme) {
            let end = link_end(text, i);
            if end > i + scheme.len() {
                let url = &text[i..end];
                out.push_str("<a href=\"");
                escape_into(&mut out, url);
                out.push_str("\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">");
                escape_into(&mut out, url);
                out.push_str("</a>");
                i = end;
                continue;
            }
        }
        let c = rest.chars().next().expect("inside the text");
        match c {
            '\n' => out.push_str("<br>\n"),
            '\r' => {}
            c => {
                let mut buf = [0u8; 4];
                escape_into(&mut out, c.encode_utf8(&mut buf));
            }
        }
        i += c.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::to_html;

    #[test]
    fn text_is_escaped_and_lines_kept() {
        assert_eq!(
            to_html("a <b>\r\n\"c\" & 'd'"),
            "a &lt;b&gt;<br>\n&quot;c&quot; &amp; &#39;d&#39;"
        );
    }

    #[test]
    fn web_addresses_become_links_and_nothing_else_does() {
        assert_eq!(
            to_html("See https://example.com/a?b=1&c=2."),
            "See <a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">https://example.com/a?b=1&amp;c=2</a>."
        );
        assert!(!to_html("javascript:alert(1)").contains("<a"));
        assert!(!to_html("xhttps://example.com").contains("<a"));
        assert!(!to_html("https://").contains("<a"));
        let quoted = to_html("https://x.example/\"onmouseover=alert(1)");
        assert!(
            quoted.contains("href=\"https://x.example/\"") && quoted.contains("&quot;onmouseover")
        );
        assert!(to_html("(https://example.com)").contains(">https://example.com</a>)"));
        assert_eq!(
            to_html("é https://é.example"),
            "é <a href=\"https://é.example\" rel=\"noopener noreferrer nofollow\" target=\"_blank\">https://é.example</a>"
        );
    }
}
