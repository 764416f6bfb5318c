//! `{name}` placeholders in manifest strings (`env` values, `setup` SQL and commands, `ready`,
//! `progress.query`): the one table of names, and `Template`, a string parsed once into literal
//! text and placeholders so that an unknown name is refused when the manifest is read.

use std::fmt;

/// When a placeholder has a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The same for every worker of a run; usable everywhere.
    Run,
    /// Different for each worker; usable in `env` and `ready` only.
    Worker,
    /// Set only when the run has it (a service double, a model); an `env` entry that
    /// uses it is left out when it has none, and anywhere else it is an error.
    Optional,
}

/// Declares `Placeholder`: each variant with its name in `{...}`, its scope and what it holds.
macro_rules! placeholders {
    ($( $(#[doc = $doc:literal])+ $var:ident = $name:literal, $scope:ident; )+) => {
        /// A value the runner substitutes into manifest strings.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Placeholder {
            $( $(#[doc = $doc])+ $var, )+
        }

        impl Placeholder {
            /// Every placeholder, in the order the docs and error messages list them.
            pub const ALL: &[Placeholder] = &[$(Placeholder::$var),+];

            /// The name written between braces.
            pub fn name(self) -> &'static str {
                match self { $( Placeholder::$var => $name, )+ }
            }

            /// When it has a value.
            pub fn scope(self) -> Scope {
                match self { $( Placeholder::$var => Scope::$scope, )+ }
            }

            /// What it holds, in one line (the docs' table is checked against these).
            pub fn doc(self) -> &'static str {
                match self { $( Placeholder::$var => concat!($($doc),+).trim_ascii(), )+ }
            }
        }
    };
}

placeholders! {
    /// Kafka bootstrap servers, `host:port[,host:port]`, through the fault proxy.
    KafkaBootstrap = "kafka_bootstrap", Run;
    /// `postgres://user:password@host:port/database`, through the fault proxy.
    PostgresUrl = "postgres_url", Run;
    /// Postgres host (the fault proxy's).
    PostgresHost = "postgres_host", Run;
    /// Postgres port (the fault proxy's).
    PostgresPort = "postgres_port", Run;
    /// Postgres user the pipeline connects as.
    PostgresUser = "postgres_user", Run;
    /// That user's password.
    PostgresPassword = "postgres_password", Run;
    /// Postgres database name.
    PostgresDatabase = "postgres_database", Run;
    /// The run's own Postgres schema; every table the pipeline writes goes there.
    Schema = "schema", Run;
    /// The topic the harness sends the workload to.
    InputTopic = "input_topic", Run;
    /// The dead-letter topic the harness reads back.
    DlqTopic = "dlq_topic", Run;
    /// The consumer group the workers share.
    GroupId = "group_id", Run;
    /// A unique id of the run (also in topic and schema names).
    RunId = "run_id", Run;
    /// The consumer group protocol the workers must join with: `classic` or `consumer` (KIP-848).
    GroupProtocol = "group_protocol", Run;
    /// This worker's id: `w1`, `w2`, ... (a replacement gets the next one).
    WorkerId = "worker_id", Worker;
    /// A free TCP port reserved for this worker (for its metrics or health endpoint).
    MetricsPort = "metrics_port", Worker;
    /// Base URL of the account-profile HTTP service double, when the scenario starts it.
    EnrichUrl = "enrich_url", Optional;
    /// Path of the champion model file, when the scenario names one.
    ChampionModel = "champion_model", Optional;
    /// Path of the challenger model file, when the scenario names one.
    ChallengerModel = "challenger_model", Optional;
}

impl Placeholder {
    /// The placeholder written `{name}`.
    pub fn from_name(name: &str) -> Option<Placeholder> {
        Self::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// `{kafka_bootstrap}, {postgres_url}, ...` for error messages.
    pub fn list() -> String {
        Self::ALL
            .iter()
            .map(|p| format!("{{{}}}", p.name()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for Placeholder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.name())
    }
}

/// One piece of a [`Template`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Value(Placeholder),
}

/// A manifest string with its placeholders found. `{{` and `}}` stand for literal braces.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    pub segments: Vec<Segment>,
}

impl Template {
    /// Parses `text`; the error says which name is unknown (listing the known ones) or where a
    /// brace is unbalanced.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().is_some_and(|&(_, n)| n == '{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().is_some_and(|&(_, n)| n == '}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &text[i + 1..];
                    let end = rest.find('}').ok_or_else(|| {
                        format!("`{{` at character {} is never closed; write `{{{{` for a literal brace", i + 1)
                    })?;
                    let name = &rest[..end];
                    let p = Placeholder::from_name(name).ok_or_else(|| {
                        format!(
                            "unknown placeholder `{{{name}}}`; the known ones are {}",
                            Placeholder::list()
                        )
                    })?;
                    if !literal.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut literal)));
                    }
                    segments.push(Segment::Value(p));
                    for _ in 0..=end {
                        chars.next();
                    }
                }
                '}' => {
                    return Err(format!(
                    "`}}` at character {} has no opening `{{`; write `}}}}` for a literal brace",
                    i + 1
                ))
                }
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Text(literal));
        }
        Ok(Template { segments })
    }

    /// The placeholders it uses.
    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder> + '_ {
        self.segments.iter().filter_map(|s| match s {
            Segment::Value(p) => Some(*p),
            Segment::Text(_) => None,
        })
    }

    /// The string with every placeholder replaced by `value(p)`; `Err(p)` names the first one
    /// that has no value.
    pub fn render(
        &self,
        mut value: impl FnMut(Placeholder) -> Option<String>,
    ) -> Result<String, Placeholder> {
        let mut out = String::new();
        for s in &self.segments {
            match s {
                Segment::Text(t) => out.push_str(t),
                Segment::Value(p) => out.push_str(&value(*p).ok_or(*p)?),
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Template {
    /// The text as written (literal braces doubled again).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for s in &self.segments {
            match s {
                Segment::Text(t) => write!(f, "{}", t.replace('{', "{{").replace('}', "}}"))?,
                Segment::Value(p) => write!(f, "{p}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_renders_and_round_trips() {
        let t =
            Template::parse("postgres://{postgres_user}@h/{postgres_database}?x={{1}}").unwrap();
        assert_eq!(
            t.placeholders().collect::<Vec<_>>(),
            vec![Placeholder::PostgresUser, Placeholder::PostgresDatabase]
        );
        let out = t.render(|p| Some(p.name().to_uppercase())).unwrap();
        assert_eq!(out, "postgres://POSTGRES_USER@h/POSTGRES_DATABASE?x={1}");
        assert_eq!(Template::parse(&t.to_string()).unwrap(), t);
    }

    #[test]
    fn unknown_and_unbalanced_are_refused_with_the_fix() {
        let e = Template::parse("{kafka_brokers}").unwrap_err();
        assert!(e.contains("unknown placeholder `{kafka_brokers}`"), "{e}");
        assert!(e.contains("{kafka_bootstrap}"), "{e}");
        assert!(Template::parse("a{schema")
            .unwrap_err()
            .contains("never closed"));
        assert!(Template::parse("a}b").unwrap_err().contains("no opening"));
    }

    #[test]
    fn a_missing_value_is_named() {
        let t = Template::parse("{enrich_url}/x").unwrap();
        assert_eq!(t.render(|_| None), Err(Placeholder::EnrichUrl));
    }

    #[test]
    fn names_are_unique_and_documented() {
        let mut names: Vec<_> = Placeholder::ALL.iter().map(|p| p.name()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Placeholder::ALL.len());
        assert!(Placeholder::ALL.iter().all(|p| !p.doc().is_empty()));
    }
}
