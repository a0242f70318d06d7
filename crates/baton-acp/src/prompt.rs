//! A `session/prompt`'s content blocks as the text baton sends the model.

use agent_client_protocol::v1::schema::{ContentBlock, EmbeddedResourceResource};

/// The prompt as one text: text blocks as they are, linked files by name
/// and address, embedded files with their text. Images, audio and binary
/// resources are refused (the agent does not advertise them).
pub(crate) fn text_of(blocks: &[ContentBlock]) -> Result<String, String> {
    let mut parts = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::Text(t) => parts.push(t.text.clone()),
            ContentBlock::ResourceLink(link) => {
                parts.push(format!("[{}]({})", link.name, link.uri));
            }
            ContentBlock::Resource(embedded) => match &embedded.resource {
                EmbeddedResourceResource::TextResourceContents(file) => parts.push(format!(
                    "<file uri=\"{}\">\n{}\n</file>",
                    file.uri, file.text
                )),
                _ => return Err("binary resources are not supported in a prompt".into()),
            },
            ContentBlock::Image(_) => return Err("images are not supported in a prompt".into()),
            ContentBlock::Audio(_) => return Err("audio is not supported in a prompt".into()),
            _ => return Err("this kind of content is not supported in a prompt".into()),
        }
    }
    let text = parts.join("\n\n");
    if text.trim().is_empty() {
        return Err("the prompt is empty".into());
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_client_protocol::v1::schema::{
        EmbeddedResource, ImageContent, ResourceLink, TextContent, TextResourceContents,
    };

    #[test]
    fn text_links_and_files_are_joined() {
        let blocks = vec![
            ContentBlock::Text(TextContent::new("look at")),
            ContentBlock::ResourceLink(ResourceLink::new("a.rs", "file:///p/a.rs")),
            ContentBlock::Resource(EmbeddedResource::new(
                EmbeddedResourceResource::TextResourceContents(TextResourceContents::new(
                    "fn main() {}",
                    "file:///p/b.rs",
                )),
            )),
        ];
        let text = text_of(&blocks).unwrap_or_default();
        assert!(
            text.starts_with("look at\n\n[a.rs](file:///p/a.rs)\n\n"),
            "{text}"
        );
        assert!(text.contains("<file uri=\"file:///p/b.rs\">\nfn main() {}\n</file>"));
    }

    #[test]
    fn an_image_or_an_empty_prompt_is_refused() {
        let image = vec![ContentBlock::Image(ImageContent::new("AAAA", "image/png"))];
        assert!(text_of(&image).is_err());
        assert!(text_of(&[ContentBlock::Text(TextContent::new("  "))]).is_err());
    }
}
