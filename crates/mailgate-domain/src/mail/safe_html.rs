//! HTML of incoming mail made safe to show: anyone can send a message, so its HTML is stored as
//! it came (the raw message keeps it anyway) and cleaned each time it is handed out.

use std::collections::HashSet;
use std::sync::LazyLock;

/// CSS properties kept in `style` attributes: layout and typography only. Anything that can
/// load a resource (`background-image`, `background`, `list-style-image`, `content`...) goes.
const STYLE_PROPERTIES: &[&str] = &[
    "color",
    "background-color",
    "font",
    "font-family",
    "font-size",
    "font-style",
    "font-weight",
    "text-align",
    "text-decoration",
    "text-indent",
    "line-height",
    "vertical-align",
    "white-space",
    "margin",
    "margin-top",
    "margin-right",
    "margin-bottom",
    "margin-left",
    "padding",
    "padding-top",
    "padding-right",
    "padding-bottom",
    "padding-left",
    "border",
    "border-collapse",
    "border-color",
    "border-style",
    "border-width",
    "width",
    "height",
    "max-width",
    "display",
];

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        // `cid:` names an inline image of the same message.
        .add_url_schemes(["cid"])
        .add_generic_attributes(["style", "align", "bgcolor", "width", "height"])
        .filter_style_properties(STYLE_PROPERTIES.iter().copied().collect::<HashSet<_>>())
        .link_rel(Some("noopener noreferrer nofollow"));
    builder
});

/// `html` without scripts, event handlers (`onload=`...), `javascript:` and other unsafe URLs,
/// forms, frames, embedded objects, `<style>` blocks and resource-loading CSS (ammonia's
/// allow-list, plus `style` attributes restricted to [`STYLE_PROPERTIES`] and `cid:` links to
/// inline images). Remote images (`<img src="https://...">`) are kept: a page that shows mail
/// should load them only when asked (they tell the sender the mail was read).
pub fn safe_html(html: &str) -> String {
    CLEANER.clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_handlers_and_javascript_urls_go_the_text_stays() {
        let cases = [
            ("<p>hi<script>alert(1)</script></p>", "<p>hi</p>"),
            ("<img src=x onerror=alert(1)>", "<img src=\"x\">"),
            (
                "<a href=\"javascript:alert(1)\">x</a>",
                "<a rel=\"noopener noreferrer nofollow\">x</a>",
            ),
            ("<iframe src=\"https://evil.example\"></iframe>ok", "ok"),
            (
                "<form action=\"https://evil.example\"><input name=p></form>",
                "",
            ),
            (
                "<style>body{background:url(https://t.example/p)}</style>x",
                "x",
            ),
            (
                "<p style=\"color: red; background-image: url(https://t.example/p)\">x</p>",
                "<p style=\"color:red\">x</p>",
            ),
            ("<img src=\"cid:logo@x\">", "<img src=\"cid:logo@x\">"),
            ("<b>bold</b> &amp; <i>it</i>", "<b>bold</b> &amp; <i>it</i>"),
        ];
        for (dirty, clean) in cases {
            assert_eq!(safe_html(dirty), clean, "{dirty}");
        }
    }
}
