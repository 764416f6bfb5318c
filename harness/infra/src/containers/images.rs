//! Which images the containers backend runs. Defaults are the official images; `ci/images.sh` builds
//! local ones for machines without a registry and exports their names through these variables.

use crate::error::{InfraError, Result};

/// The official Kafka image, pinned to the same version `ci/` assembles.
pub const DEFAULT_KAFKA_IMAGE: &str = "apache/kafka:4.1.1";
/// The official Postgres image.
pub const DEFAULT_POSTGRES_IMAGE: &str = "postgres:17";

/// An image as name and tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    pub name: String,
    pub tag: String,
}

impl ImageRef {
    /// Parses `name[:tag]`, where the name may carry a registry with a port (`host:5000/x/y:tag`).
    pub fn parse(field: &str, s: &str) -> Result<Self> {
        let s = s.trim();
        let last_slash = s.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match s[last_slash..].rfind(':') {
            Some(i) => (&s[..last_slash + i], &s[last_slash + i + 1..]),
            None => (s, "latest"),
        };
        if name.is_empty() || tag.is_empty() || s.contains(char::is_whitespace) {
            return Err(InfraError::InvalidValue {
                field: field.into(),
                value: s.into(),
                expected: "expected an image reference like `postgres:17` or `registry:5000/team/kafka:4.1.1`".into(),
            });
        }
        Ok(Self {
            name: name.into(),
            tag: tag.into(),
        })
    }

    /// Reads `var`, falling back to `default`.
    pub fn from_env(var: &str, default: &str) -> Result<Self> {
        match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Self::parse(var, &v),
            _ => Self::parse(var, default),
        }
    }
}

impl std::fmt::Display for ImageRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.name, self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_official_local_and_registry_references() {
        assert_eq!(
            ImageRef::parse("x", "postgres:17").unwrap(),
            ImageRef {
                name: "postgres".into(),
                tag: "17".into()
            }
        );
        assert_eq!(ImageRef::parse("x", "apache/kafka").unwrap().tag, "latest");
        let r = ImageRef::parse("x", "reg.local:5000/team/kafka:4.1.1-abc").unwrap();
        assert_eq!(
            (r.name.as_str(), r.tag.as_str()),
            ("reg.local:5000/team/kafka", "4.1.1-abc")
        );
        let err = ImageRef::parse("FAULTLINE_KAFKA_IMAGE", "kafka:")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("FAULTLINE_KAFKA_IMAGE") && err.contains("image reference"),
            "{err}"
        );
    }
}
