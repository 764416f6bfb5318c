//! Postgres connection settings. The password is held apart so `Debug`, logs and reports never show it.

use std::fmt;

use crate::error::{InfraError, Result};

/// How to reach a Postgres server. `Debug` and `Display` redact the password.
#[derive(Clone)]
pub struct PgConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    password: String,
    pub dbname: String,
}

impl PgConfig {
    pub fn new(
        host: impl Into<String>,
        port: u16,
        user: impl Into<String>,
        password: impl Into<String>,
        dbname: impl Into<String>,
    ) -> Self {
        Self {
            host: host.into(),
            port,
            user: user.into(),
            password: password.into(),
            dbname: dbname.into(),
        }
    }

    /// Parses `postgres://user:password@host:port/db`. The error never echoes the password.
    pub fn from_url(url: &str) -> Result<Self> {
        let bad = |why: &str| InfraError::InvalidValue {
            field: "postgres url".into(),
            value: redact_url(url),
            expected: format!("{why}; expected postgres://USER:PASSWORD@HOST:PORT/DB"),
        };
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| bad("scheme must be postgres://"))?;
        let (cred, hostpart) = rest.rsplit_once('@').ok_or_else(|| bad("no USER@ part"))?;
        let (user, password) = cred.split_once(':').unwrap_or((cred, ""));
        let (hostport, db) = hostpart.split_once('/').unwrap_or((hostpart, "postgres"));
        let db = db.split('?').next().unwrap_or("postgres");
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>().map_err(|_| bad("port is not a number"))?,
            ),
            None => (hostport, 5432),
        };
        if host.is_empty() || user.is_empty() {
            return Err(bad("host and user are required"));
        }
        Ok(Self::new(
            host,
            port,
            user,
            password,
            if db.is_empty() { "postgres" } else { db },
        ))
    }

    /// The password, for handing to a pipeline process's environment only.
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The full URL including the password, for handing to a pipeline process's environment only.
    pub fn url_with_password(&self) -> String {
        format!(
            "postgres://{}:{}@{}:{}/{}",
            self.user, self.password, self.host, self.port, self.dbname
        )
    }

    /// A libpq/tokio-postgres key=value connection string (contains the password).
    pub fn conninfo(&self) -> String {
        format!(
            "host={} port={} user={} password='{}' dbname={} connect_timeout=5",
            self.host,
            self.port,
            self.user,
            self.password.replace('\'', "\\'"),
            self.dbname
        )
    }

    /// The same server, another database.
    pub fn with_dbname(&self, dbname: impl Into<String>) -> Self {
        Self {
            dbname: dbname.into(),
            ..self.clone()
        }
    }

    /// Opens a connection; the connection task runs on the current tokio runtime.
    pub async fn connect(&self) -> Result<tokio_postgres::Client> {
        let (client, conn) =
            tokio_postgres::connect(&self.conninfo(), tokio_postgres::NoTls).await?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("postgres connection ended: {e}");
            }
        });
        Ok(client)
    }
}

impl fmt::Display for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "postgres://{}:***@{}:{}/{}",
            self.user, self.host, self.port, self.dbname
        )
    }
}

impl fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Replaces the password of a URL-shaped string with `***`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let cred = &url[s + 3..at];
            match cred.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..s + 3], user, &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A random password for servers the harness starts itself.
pub fn random_password() -> String {
    use rand::distr::{Alphanumeric, SampleString};
    Alphanumeric.sample_string(&mut rand::rng(), 24)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_password() {
        let c = PgConfig::new("127.0.0.1", 5433, "postgres", "s3cret-pw", "app");
        assert_eq!(format!("{c}"), "postgres://postgres:***@127.0.0.1:5433/app");
        assert!(!format!("{c:?}").contains("s3cret"));
        assert!(c.url_with_password().contains("s3cret-pw"));
    }

    #[test]
    fn parses_urls_and_rejects_bad_ones_without_echoing_secrets() {
        let c =
            PgConfig::from_url("postgres://u:p%40ss@db.local:6543/ledger?sslmode=disable").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.user.as_str(), c.dbname.as_str()),
            ("db.local", 6543, "u", "ledger")
        );
        let err = PgConfig::from_url("mysql://u:topsecret@h/db")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("postgres://") && !err.contains("topsecret"),
            "{err}"
        );
        let err = PgConfig::from_url("postgres://u:topsecret@h:notaport/db")
            .unwrap_err()
            .to_string();
        assert!(err.contains("port") && !err.contains("topsecret"), "{err}");
    }
}
