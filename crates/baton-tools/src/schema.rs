//! Parameter schemas: generated from each tool's argument struct, checked
//! against the model's arguments, and summarised for error messages.

use crate::ToolError;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The JSON Schema of `T` as offered to models: an inline object schema
/// (no `$defs`, no `$schema`, no title) where optional fields are plain
/// types rather than `[type, "null"]`.
pub fn schema_for<T: schemars::JsonSchema>() -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12()
        .with(|settings| {
            settings.inline_subschemas = true;
            settings.meta_schema = None;
        })
        .into_generator();
    let mut value = generator.into_root_schema_for::<T>().to_value();
    if let Some(root) = value.as_object_mut() {
        root.remove("title");
        root.remove("description");
    }
    drop_null_types(&mut value);
    value
}

/// Rewrites `"type": ["integer", "null"]` to `"type": "integer"` everywhere,
/// and leaves `null` out of the values an optional enum lists.
fn drop_null_types(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".to_owned(), only);
                }
            }
            if let Some(Value::Array(values)) = map.get_mut("enum") {
                values.retain(|v| !v.is_null());
            }
            map.values_mut().for_each(drop_null_types);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_types),
        _ => {}
    }
}

/// Deserializes a tool's arguments, turning serde's complaint into an
/// [`ToolError::InvalidArguments`].
pub fn parse_args<T: DeserializeOwned>(args: Value) -> Result<T, ToolError> {
    serde_json::from_value(args).map_err(|err| ToolError::invalid(err.to_string()))
}

/// Checks the top level of `args` against an object schema: an object,
/// every required parameter present, no unknown parameter (when the schema
/// forbids them), each value of the right JSON type. Returns one sentence
/// per problem; deeper problems are left to deserialization.
pub(crate) fn check_arguments(args: &Value, schema: &Value) -> Vec<String> {
    let Some(given) = args.as_object() else {
        return vec![format!(
            "the arguments must be a JSON object, not {}",
            json_type_name(args)
        )];
    };
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let required = required_names(schema);
    let mut problems = Vec::new();

    for name in &required {
        if given.get(name.as_str()).is_none_or(Value::is_null) {
            problems.push(format!("missing required parameter `{name}`"));
        }
    }
    let closed = schema.get("additionalProperties") == Some(&Value::Bool(false));
    for (name, value) in given {
        match properties.get(name) {
            None if closed => problems.push(format!(
                "unknown parameter `{name}` (this tool takes: {})",
                properties
                    .keys()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            None => {}
            Some(_) if value.is_null() && !required.contains(name) => {}
            Some(property) => {
                if let Some(problem) = check_value(name, value, property) {
                    problems.push(problem);
                }
            }
        }
    }
    problems
}

fn check_value(name: &str, value: &Value, property: &Value) -> Option<String> {
    let types = schema_types(property);
    if !types.is_empty() && !types.iter().any(|t| value_has_type(value, t)) {
        return Some(format!(
            "parameter `{name}` must be {}, but got {}",
            types
                .iter()
                .map(|t| with_article(t))
                .collect::<Vec<_>>()
                .join(" or "),
            describe_value(value)
        ));
    }
    if let (Some(minimum), Some(number)) = (
        property.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) && number < minimum
    {
        return Some(format!(
            "parameter `{name}` must be at least {minimum}, but got {value}"
        ));
    }
    if let Some(allowed) = property.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Some(format!(
            "parameter `{name}` must be one of {}, but got {value}",
            allowed
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    None
}

fn required_names(schema: &Value) -> Vec<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| {
            names
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn schema_types(property: &Value) -> Vec<String> {
    match property.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

fn value_has_type(value: &Value, schema_type: &str) -> bool {
    match schema_type {
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        _ => true,
    }
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn describe_value(value: &Value) -> String {
    let text = value.to_string();
    let shown = if text.chars().count() > 40 {
        format!("{}…", text.chars().take(40).collect::<String>())
    } else {
        text
    };
    format!("{} ({shown})", json_type_name(value))
}

fn with_article(schema_type: &str) -> String {
    match schema_type {
        "integer" | "array" | "object" => format!("an {schema_type}"),
        "null" => "null".to_owned(),
        other => format!("a {other}"),
    }
}

/// A readable list of a tool's parameters: name, type, required or
/// optional, default and description, required ones first.
pub(crate) fn describe_parameters(schema: &Value) -> String {
    let empty = Map::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    if properties.is_empty() {
        return "  (no parameters)".to_owned();
    }
    let required = required_names(schema);
    let mut names: Vec<&String> = required
        .iter()
        .filter(|name| properties.contains_key(name.as_str()))
        .collect();
    names.extend(properties.keys().filter(|name| !required.contains(name)));

    names
        .into_iter()
        .filter_map(|name| {
            let property = properties.get(name)?;
            let mut line = format!("  - {name} ({}", type_label(property));
            if required.contains(name) {
                line.push_str(", required");
            } else {
                line.push_str(", optional");
                if let Some(default) = property.get("default") {
                    line.push_str(&format!(", default {default}"));
                }
            }
            line.push(')');
            if let Some(description) = property.get("description").and_then(Value::as_str) {
                line.push_str(": ");
                line.push_str(&description.replace('\n', " "));
            }
            Some(line)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn type_label(property: &Value) -> String {
    let types = schema_types(property);
    let mut label = if types.is_empty() {
        "any".to_owned()
    } else {
        types.join(" or ")
    };
    if let Some(allowed) = property.get("enum").and_then(Value::as_array) {
        label = format!(
            "one of {}",
            allowed
                .iter()
                .map(Value::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if types.iter().any(|t| t == "array")
        && let Some(items) = property.get("items")
    {
        let item_label = match items.get("properties").and_then(Value::as_object) {
            Some(fields) => format!(
                "objects {{{}}}",
                fields
                    .iter()
                    .map(|(field, schema)| format!("{field}: {}", type_label(schema)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => type_label(items),
        };
        label = format!("array of {item_label}");
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Test arguments.
    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Args {
        /// The file.
        path: String,
        /// How many.
        limit: Option<u64>,
        /// Everything?
        #[serde(default)]
        all: bool,
        /// Which way.
        way: Option<Way>,
    }

    #[derive(serde::Deserialize, schemars::JsonSchema)]
    #[serde(rename_all = "lowercase")]
    #[allow(dead_code)]
    enum Way {
        Up,
        Down,
    }

    #[test]
    fn schema_is_a_clean_inline_object() {
        let schema = schema_for::<Args>();
        assert_eq!(schema["type"], "object");
        assert!(schema.get("$schema").is_none());
        assert!(schema.get("title").is_none());
        assert!(schema.get("description").is_none());
        assert_eq!(schema["properties"]["limit"]["type"], "integer");
        assert_eq!(schema["properties"]["path"]["description"], "The file.");
        assert_eq!(schema["required"], json!(["path"]));
        assert_eq!(schema["additionalProperties"], json!(false));
        // An optional enum lists its values only.
        assert_eq!(schema["properties"]["way"]["enum"], json!(["up", "down"]));
        assert_eq!(schema["properties"]["way"]["type"], "string");
    }

    #[test]
    fn check_reports_missing_unknown_and_mistyped_parameters() {
        let schema = schema_for::<Args>();
        assert!(check_arguments(&json!({"path": "a"}), &schema).is_empty());
        assert!(check_arguments(&json!({"path": "a", "limit": null}), &schema).is_empty());

        let problems = check_arguments(&json!({"limit": "10", "color": 1}), &schema);
        let text = problems.join("\n");
        assert!(text.contains("missing required parameter `path`"), "{text}");
        assert!(
            text.contains("parameter `limit` must be an integer, but got a string"),
            "{text}"
        );
        assert!(text.contains("unknown parameter `color`"), "{text}");

        let negative = check_arguments(&json!({"path": "a", "limit": -1}), &schema);
        assert!(negative[0].contains("at least 0"), "{negative:?}");

        let not_object = check_arguments(&json!([1]), &schema);
        assert!(not_object[0].contains("must be a JSON object"));
    }

    #[test]
    fn parameter_summary_lists_required_first_with_types() {
        let text = describe_parameters(&schema_for::<Args>());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "  - path (string, required): The file.");
        assert!(text.contains("  - all (boolean, optional, default false): Everything?"));
        assert!(text.contains("  - limit (integer, optional): How many."));
    }
}
