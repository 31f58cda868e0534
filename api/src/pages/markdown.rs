//! A post's Markdown as HTML for the web pages (pulldown-cmark, CommonMark with tables and
//! strikethrough). Posts are written by admins, but a page must stay safe whatever the text
//! holds: raw HTML in the Markdown is shown as text, and a link or image whose address is not
//! http(s), `mailto:`, `tel:` or relative is dropped (its text stays).

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// Whether a link may keep its address. `javascript:`, `data:`, `vbscript:` and any other
/// scheme are refused.
fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.find(':') {
        // No scheme: relative, or a fragment. A colon after `/`, `?` or `#` is not a scheme.
        None => true,
        Some(i) if lower[..i].contains(['/', '?', '#']) => true,
        Some(_) => ["http:", "https:", "mailto:", "tel:"]
            .iter()
            .any(|s| lower.starts_with(s)),
    }
}

/// The HTML of `md`, safe to put in a page.
pub fn to_html(md: &str) -> String {
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut dropped = Vec::new();
    let events = Parser::new_ext(md, opts).filter_map(|ev| match ev {
        Event::Html(s) | Event::InlineHtml(s) => Some(Event::Text(s)),
        Event::Start(Tag::Link { ref dest_url, .. }) if !safe_url(dest_url) => {
            dropped.push(true);
            None
        }
        Event::Start(Tag::Link { .. }) => {
            dropped.push(false);
            Some(ev)
        }
        Event::End(TagEnd::Link) => {
            if dropped.pop().unwrap_or(false) {
                None
            } else {
                Some(ev)
            }
        }
        Event::Start(Tag::Image { ref dest_url, .. }) if !safe_url(dest_url) => {
            Some(Event::Start(Tag::Image {
                link_type: pulldown_cmark::LinkType::Inline,
                dest_url: CowStr::Borrowed(""),
                title: CowStr::Borrowed(""),
                id: CowStr::Borrowed(""),
            }))
        }
        other => Some(other),
    });
    let mut out = String::with_capacity(md.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html() {
        let h = to_html("# 标题\n\n**重点** 内容\n\n- 一\n- 二\n\n[链接](https://example.org/a)");
        assert!(h.contains("<h1>标题</h1>"), "{h}");
        assert!(h.contains("<strong>重点</strong>"), "{h}");
        assert!(h.contains("<li>一</li>"), "{h}");
        assert!(
            h.contains(r#"<a href="https://example.org/a">链接</a>"#),
            "{h}"
        );
    }

    #[test]
    fn raw_html_and_script_links_do_not_survive() {
        let h = to_html("<script>alert(1)</script>\n\n点 <b onclick=x>这里</b>");
        assert!(!h.contains("<script"), "{h}");
        assert!(!h.contains("<b "), "{h}");
        assert!(h.contains("&lt;script&gt;"), "{h}");
        let h = to_html("[点我](javascript:alert(1)) 和 [邮件](mailto:a@b.c) 和 [相对](/m/x)");
        assert!(!h.contains("javascript"), "{h}");
        assert!(h.contains("点我"), "{h}");
        assert!(h.contains(r#"href="mailto:a@b.c""#), "{h}");
        assert!(h.contains(r#"href="/m/x""#), "{h}");
        let h = to_html("![图](data:text/html;base64,PHNjcmlwdD4=)");
        assert!(!h.contains("data:"), "{h}");
        assert!(!safe_url(" JavaScript:x"));
        assert!(safe_url("a/b:c"));
    }
}
