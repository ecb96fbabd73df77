//! What the two HTML pages (`history --format html` and the comparison's `--format html`)
//! share: escaping of text that comes from files, and charts embedded as `data:` URIs so a
//! page needs nothing from elsewhere.

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => out.push_str(&format!("&#{};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes an SVG document for a `data:` URI: everything but unreserved characters
/// and a few harmless ones, so that no quote, `#` or `%` can end or change the URI.
pub fn data_uri(svg: &str) -> String {
    let mut out = String::from("data:image/svg+xml;charset=utf-8,");
    for b in svg.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b' '
            | b'='
            | b':'
            | b'/'
            | b','
            | b';'
            | b'('
            | b')' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>\u{1b}"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;&#27;"
        );
    }

    #[test]
    fn a_data_uri_cannot_be_ended_by_its_content() {
        let u = data_uri("<svg a=\"b\"># %'\n</svg>");
        assert!(u.starts_with("data:image/svg+xml;charset=utf-8,"));
        for bad in ['"', '\'', '#', '<', '>', '\n'] {
            assert!(!u.contains(bad), "{u}");
        }
        assert!(u.contains("%22") && u.contains("%23") && u.contains("%25"));
    }
}
