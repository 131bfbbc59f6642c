//! Request bodies: typed parsing that names the failing field, and JSON merge patches.

use mailgate_domain::{FieldError, FieldErrors};
use serde::de::DeserializeOwned;

/// Deserializes a body, naming the path of the first field serde refuses (unknown fields,
/// wrong types), with the list of accepted fields when the name is unknown.
pub fn parse_body<T: DeserializeOwned>(body: serde_json::Value) -> Result<T, FieldErrors> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner().to_string();
        let hint = match inner.split_once(", expected ") {
            Some((_, expected)) if inner.starts_with("unknown field") => {
                format!("remove it; accepted fields: {expected}")
            }
            _ if inner.contains("unknown variant") => "use one of the values listed".to_owned(),
            _ => "check the value's type against the API documentation (/api/openapi.json)"
                .to_owned(),
        };
        let field = if field == "." { String::new() } else { field };
        FieldErrors::from(FieldError::new(field, inner).with_hint(hint))
    })
}

/// RFC 7396: objects merge key by key, `null` removes, anything else replaces.
pub fn merge_patch(base: serde_json::Value, patch: serde_json::Value) -> serde_json::Value {
    match (base, patch) {
        (serde_json::Value::Object(mut base), serde_json::Value::Object(patch)) => {
            for (key, value) in patch {
                if value.is_null() {
                    base.remove(&key);
                } else {
                    let old = base.remove(&key).unwrap_or(serde_json::Value::Null);
                    base.insert(key, merge_patch(old, value));
                }
            }
            serde_json::Value::Object(base)
        }
        (_, patch) => patch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let base = json!({"a": 1, "filter": {"type": "allow", "domains": ["x.com"]}, "proxy": "socks5://h:1"});
        let merged = merge_patch(
            base,
            json!({"a": 2, "filter": {"domains": ["y.com"]}, "proxy": null}),
        );
        assert_eq!(
            merged,
            json!({"a": 2, "filter": {"type": "allow", "domains": ["y.com"]}})
        );
    }

    #[test]
    fn unknown_and_mistyped_fields_are_named() {
        let e = parse_body::<mailgate_domain::incoming::IncomingServerInput>(json!({"nmae": "x"}))
            .unwrap_err();
        assert_eq!(e.errors()[0].field, "nmae");
        assert!(e.errors()[0].hint.as_deref().unwrap().contains("`name`"));
        let e = parse_body::<mailgate_domain::incoming::IncomingServerInput>(
            json!({"filter": {"type": "deny"}}),
        )
        .unwrap_err();
        assert_eq!(e.errors()[0].field, "filter.type");
        let e =
            parse_body::<mailgate_domain::incoming::IncomingServerInput>(json!({"port": "993"}))
                .unwrap_err();
        assert_eq!(e.errors()[0].field, "port");
    }
}
