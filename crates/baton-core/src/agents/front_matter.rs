//! Markdown files with YAML front matter: a `---` line, YAML fields, a
//! `---` line, then the body.

use serde::de::DeserializeOwned;

/// An agent file split into its fields and its body.
#[derive(Debug)]
pub(crate) struct FrontMatter<'a> {
    /// The YAML between the `---` lines, preceded by one empty line so
    /// that YAML error positions are the file's line numbers.
    yaml: String,
    /// The names of the top-level fields, in file order.
    keys: Vec<String>,
    /// Everything after the closing `---` line, trimmed.
    pub(crate) body: &'a str,
}

impl<'a> FrontMatter<'a> {
    /// Splits a file and checks that its front matter is a YAML map.
    pub(crate) fn parse(text: &'a str) -> Result<FrontMatter<'a>, String> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = text.split_inclusive('\n');
        let opening = lines.next().unwrap_or_default();
        if !is_fence(opening) {
            return Err(
                "no front matter: an agent file starts with a `---` line, then YAML \
                        fields (at least `description`), a closing `---` line and the prompt"
                    .to_owned(),
            );
        }
        let mut yaml = String::from("\n");
        let mut offset = opening.len();
        let mut closed = false;
        for line in lines {
            offset += line.len();
            if is_fence(line) {
                closed = true;
                break;
            }
            yaml.push_str(line);
        }
        if !closed {
            return Err(
                "the front matter is not closed: add a `---` line after its fields".to_owned(),
            );
        }
        let keys = top_level_keys(&yaml)?;
        Ok(FrontMatter {
            yaml,
            keys,
            body: text[offset..].trim(),
        })
    }

    /// The top-level field names, in file order.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(String::as_str)
    }

    /// The fields read into `T`. Errors name the field and the file line.
    pub(crate) fn fields<T: DeserializeOwned>(&self) -> Result<T, String> {
        let yaml = if self.keys.is_empty() {
            "{}"
        } else {
            &self.yaml
        };
        yaml_serde::from_str(yaml).map_err(|e| format!("front matter: {e}"))
    }
}

/// Whether a line is a `---` fence (trailing spaces and `\r` allowed).
fn is_fence(line: &str) -> bool {
    line.trim_end() == "---"
}

/// The names of a YAML map's keys; an error when it is not a map of text
/// keys. An empty document counts as an empty map.
fn top_level_keys(yaml: &str) -> Result<Vec<String>, String> {
    let value: yaml_serde::Value =
        yaml_serde::from_str(yaml).map_err(|e| format!("front matter is not valid YAML: {e}"))?;
    match value {
        yaml_serde::Value::Null => Ok(Vec::new()),
        yaml_serde::Value::Mapping(map) => map
            .keys()
            .map(|key| match key {
                yaml_serde::Value::String(name) => Ok(name.clone()),
                other => Err(format!(
                    "front matter: field names must be text, found `{}`",
                    yaml_serde::to_string(other).unwrap_or_default().trim_end()
                )),
            })
            .collect(),
        _ => Err("front matter must be YAML fields (`name: value` lines)".to_owned()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Fields {
        description: Option<String>,
        steps: Option<u32>,
    }

    #[test]
    fn splits_fields_and_trimmed_body() {
        let fm =
            FrontMatter::parse("---\ndescription: d\nsteps: 3\n---\n\n  Body text.\n\n").unwrap();
        assert_eq!(fm.keys().collect::<Vec<_>>(), ["description", "steps"]);
        assert_eq!(fm.body, "Body text.");
        let fields: Fields = fm.fields().unwrap();
        assert_eq!(fields.description.as_deref(), Some("d"));
        assert_eq!(fields.steps, Some(3));
    }

    #[test]
    fn accepts_crlf_a_bom_and_a_missing_final_newline() {
        let fm = FrontMatter::parse("\u{feff}---\r\ndescription: d\r\n---\r\nBody").unwrap();
        assert_eq!(fm.body, "Body");
        let fm = FrontMatter::parse("---\ndescription: d\n---").unwrap();
        assert_eq!(fm.body, "");
    }

    #[test]
    fn empty_front_matter_is_an_empty_map() {
        let fm = FrontMatter::parse("---\n---\nBody").unwrap();
        assert_eq!(fm.keys().count(), 0);
        let fields: Fields = fm.fields().unwrap();
        assert!(fields.description.is_none());
    }

    #[test]
    fn missing_or_unclosed_front_matter_is_an_error() {
        let err = FrontMatter::parse("# Just markdown\n").unwrap_err();
        assert!(err.contains("no front matter"), "{err}");
        let err = FrontMatter::parse("---\ndescription: d\nBody\n").unwrap_err();
        assert!(err.contains("not closed"), "{err}");
    }

    #[test]
    fn yaml_errors_carry_the_file_line() {
        let err = FrontMatter::parse("---\ndescription: d\nbad: [unclosed\n---\nBody").unwrap_err();
        assert!(err.contains("not valid YAML"), "{err}");
        assert!(err.contains("line 3") || err.contains("line 4"), "{err}");
        let fm = FrontMatter::parse("---\ndescription: d\nsteps: many\n---\n").unwrap();
        let err = fm.fields::<Fields>().unwrap_err();
        assert!(err.contains("steps") && err.contains("line 3"), "{err}");
    }

    #[test]
    fn front_matter_must_be_a_map() {
        let err = FrontMatter::parse("---\n- a\n- b\n---\n").unwrap_err();
        assert!(err.contains("must be YAML fields"), "{err}");
    }
}
