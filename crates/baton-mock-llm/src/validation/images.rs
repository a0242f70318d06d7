//! Images in requests, checked as the providers check them: a known image
//! type and base64 data (or, on OpenAI's wires, an `https` URL).

use base64::Engine as _;
use serde_json::Value;

use super::str_field;

/// The image types every provider takes.
const TYPES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// An Anthropic `image` block: `{"type": "image", "source": {"type": "base64", "media_type", "data"}}`.
pub(super) fn check_anthropic(block: &Value, at: &str) -> Result<(), String> {
    let source = block
        .get("source")
        .ok_or_else(|| format!("{at}: an image block needs `source`"))?;
    match str_field(source, "type") {
        Some("base64") => {}
        Some("url") if str_field(source, "url").is_some() => return Ok(()),
        _ => {
            return Err(format!(
                "{at}.source: must be {{\"type\": \"base64\", \"media_type\", \"data\"}} or {{\"type\": \"url\", \"url\"}}"
            ));
        }
    }
    let media_type = str_field(source, "media_type").unwrap_or_default();
    if !TYPES.contains(&media_type) {
        return Err(format!(
            "{at}.source.media_type: Input should be {} (got {media_type:?})",
            TYPES.join(", ")
        ));
    }
    check_base64(str_field(source, "data"), &format!("{at}.source.data"))
}

/// An image URL on OpenAI's wires: `https://...` or `data:TYPE;base64,DATA`.
pub(super) fn check_url(url: Option<&str>, at: &str) -> Result<(), String> {
    let url = url.ok_or_else(|| format!("{at}: an image needs its URL"))?;
    if url.starts_with("https://") || url.starts_with("http://") {
        return Ok(());
    }
    let Some((media_type, data)) = url
        .strip_prefix("data:")
        .and_then(|rest| rest.split_once(";base64,"))
    else {
        return Err(format!(
            "{at}: Invalid image URL: expected an http(s) URL or a base64 data URL"
        ));
    };
    if !TYPES.contains(&media_type) {
        return Err(format!(
            "{at}: Invalid image type {media_type:?}: supported are {}",
            TYPES.join(", ")
        ));
    }
    check_base64(Some(data), at)
}

fn check_base64(data: Option<&str>, at: &str) -> Result<(), String> {
    let data = data.unwrap_or_default();
    let decoded = base64::engine::general_purpose::STANDARD.decode(data);
    if data.is_empty() || decoded.is_err() {
        return Err(format!("{at}: the image data is not valid base64"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn anthropic_images_need_a_known_type_and_base64() {
        let block = |media_type: &str, data: &str| json!({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}});
        assert!(check_anthropic(&block("image/png", "iVBO"), "b").is_ok());
        assert!(check_anthropic(&block("image/svg+xml", "iVBO"), "b").is_err());
        assert!(check_anthropic(&block("image/png", "not base64!"), "b").is_err());
        assert!(check_anthropic(&json!({"type": "image"}), "b").is_err());
    }

    #[test]
    fn openai_image_urls_are_links_or_base64_data() {
        assert!(check_url(Some("data:image/png;base64,iVBO"), "u").is_ok());
        assert!(check_url(Some("https://example.com/a.png"), "u").is_ok());
        assert!(check_url(Some("data:text/plain;base64,iVBO"), "u").is_err());
        assert!(check_url(Some("data:image/png,raw"), "u").is_err());
        assert!(check_url(None, "u").is_err());
    }
}
