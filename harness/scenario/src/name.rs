//! Scenario names: the runner builds directory paths from them (`<out>/runs/<name>-<seed>`) and
//! deletes those directories, so a name must be one plain path component and nothing else.

/// What a safe name is, in words, for error messages.
pub const SAFE_NAME_RULE: &str =
    "1 to 64 characters of A-Z a-z 0-9 . _ -, not starting with `.` or `-`";

/// Accepts `name` when it is a safe single path component: 1 to 64 characters of ASCII letters,
/// digits, `.`, `_` and `-`, not starting with `.` or `-`. That rules out separators (`/`, `\`),
/// `.` and `..`, hidden files, names read as options, and characters a shell would interpret.
///
/// Scenario validation applies it to the `name` field (and to the file-name default); the runner
/// can call it again before it creates or removes a directory named after a scenario.
///
/// ```
/// use faultline_scenario::safe_name;
/// assert!(safe_name("kill-workers").is_ok());
/// assert!(safe_name("/tmp/victim").is_err());
/// assert!(safe_name("..").is_err());
/// ```
pub fn safe_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let problem = if name.is_empty() {
        Some("is empty".to_string())
    } else if name.chars().count() > 64 {
        Some(format!("has {} characters", name.chars().count()))
    } else if let Some(c) = name.chars().find(|&c| !allowed(c)) {
        Some(format!("contains {c:?}"))
    } else if name.starts_with(['.', '-']) {
        Some(format!("starts with `{}`", &name[..1]))
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(p) => Err(format!(
            "`{name}` {p}; a name becomes a directory name, so it must be {SAFE_NAME_RULE}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass() {
        for name in ["a", "kill-workers", "smoke-1.v2", "Z_9", &"x".repeat(64)] {
            assert_eq!(safe_name(name), Ok(()), "{name}");
        }
    }

    #[test]
    fn anything_that_is_not_one_plain_component_is_refused_with_the_reason() {
        let cases = [
            ("/some/dir/victim", "contains '/'"),
            ("a\\b", "contains '\\\\'"),
            ("..", "starts with `.`"),
            (".hidden", "starts with `.`"),
            ("-rf", "starts with `-`"),
            ("", "is empty"),
            ("two words", "contains ' '"),
            ("é", "contains 'é'"),
        ];
        for (name, problem) in cases {
            assert_eq!(
                safe_name(name),
                Err(format!("`{name}` {problem}; a name becomes a directory name, so it must be 1 to 64 characters of A-Z a-z 0-9 . _ -, not starting with `.` or `-`")),
                "{name}"
            );
        }
        assert_eq!(
            safe_name(&"x".repeat(65)).unwrap_err(),
            format!("`{}` has 65 characters; a name becomes a directory name, so it must be {SAFE_NAME_RULE}", "x".repeat(65))
        );
    }
}
