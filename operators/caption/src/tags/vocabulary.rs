//! The vocabulary of the `tags` captioner: objects, attributes and actions. A built-in general one
//! (`assets/tags-vocabulary.json` of this crate) or a user file of the same shape.

use serde::Deserialize;

/// The slots of a caption template.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    pub objects: Vec<String>,
    pub attributes: Vec<String>,
    pub actions: Vec<String>,
}

const BUILT_IN: &str = include_str!("../../assets/tags-vocabulary.json");

impl Vocabulary {
    /// `path` ("" = built-in); every list must be non-empty.
    pub fn load(path: &str) -> Result<Self, String> {
        let text = if path.is_empty() {
            BUILT_IN.to_string()
        } else {
            std::fs::read_to_string(path).map_err(|e| format!("reading {path}: {e}"))?
        };
        let vocabulary: Self = serde_json::from_str(&text).map_err(|e| format!("parsing {path:?}: {e}"))?;
        for (name, list) in
            [("objects", &vocabulary.objects), ("attributes", &vocabulary.attributes), ("actions", &vocabulary.actions)]
        {
            if list.iter().all(|w| w.trim().is_empty()) {
                return Err(format!("vocabulary {path:?}: {name} is empty"));
            }
        }
        Ok(vocabulary)
    }
}

/// Fills `template`'s `{attribute}`, `{object}` and `{action}`; an empty slot and its extra spaces disappear.
pub fn fill(template: &str, attribute: &str, object: &str, action: &str) -> String {
    let text = template.replace("{attribute}", attribute).replace("{object}", object).replace("{action}", action);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_loads_and_templates_fill() {
        let v = Vocabulary::load("").expect("built-in vocabulary");
        assert!(v.objects.contains(&"circle".to_string()) && v.actions.contains(&"rotating".to_string()));
        let t = "a {attribute} {object} {action}";
        assert_eq!(fill(t, "red", "circle", "rotating"), "a red circle rotating");
        assert_eq!(fill(t, "", "dog", ""), "a dog");
        assert!(Vocabulary::load("/nonexistent.json").is_err());
    }
}
