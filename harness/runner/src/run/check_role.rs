//! The role the scenario's data checks run as: it logs in with its own password, is no superuser
//! and can read only the run's schema, so a `custom_sql` check cannot read server files, list
//! directories, signal backends or look into other runs' schemas and the catalog's secrets.
//! Created per run right before the checks (after the workers stopped, so every table exists;
//! default privileges cover tables created later), dropped right after, whatever the checks found.

use faultline_infra::pg::random_password;
use faultline_infra::PgConfig;
use faultline_oracle::DataCheck;
use faultline_report::CheckResult;

use crate::error::{Result, RunnerError};

/// A per-run login role with USAGE on one schema and SELECT on its tables.
pub struct CheckRole {
    name: String,
    pg: PgConfig,
}

impl CheckRole {
    /// The role's name for a run: unique per run, so runs sharing a Postgres never share one.
    pub fn name_for(run_id: &str) -> String {
        // Run ids are lowercase letters and digits already; anything else is left out, so the
        // name is always a plain identifier (at most 63 bytes).
        let id: String = run_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .take(50)
            .collect();
        format!("fl_check_{id}")
    }

    /// Creates the role (dropping a leftover of the same name first: a harness killed before it
    /// could drop it) with the grants on `schema`, as the harness's own user on `admin`.
    pub async fn create(admin: &PgConfig, schema: &str, run_id: &str) -> Result<Self> {
        let name = Self::name_for(run_id);
        let password = random_password();
        let client = admin.connect().await?;
        drop_role(&client, &name).await?;
        let schema_q = quote_ident(schema);
        client
            .batch_execute(&format!(
                "CREATE ROLE {name} LOGIN PASSWORD '{pw}' NOSUPERUSER NOCREATEDB NOCREATEROLE \
                 NOREPLICATION NOBYPASSRLS NOINHERIT CONNECTION LIMIT 4;
                 GRANT USAGE ON SCHEMA {schema_q} TO {name};
                 GRANT SELECT ON ALL TABLES IN SCHEMA {schema_q} TO {name};
                 ALTER DEFAULT PRIVILEGES IN SCHEMA {schema_q} GRANT SELECT ON TABLES TO {name};",
                pw = password.replace('\'', "''"),
            ))
            .await
            .map_err(|e| role_error(&name, "create", &e))?;
        let pg = PgConfig::new(
            admin.host.clone(),
            admin.port,
            name.clone(),
            password,
            admin.dbname.clone(),
        );
        Ok(Self { name, pg })
    }

    /// How to connect as the role.
    pub fn pg(&self) -> &PgConfig {
        &self.pg
    }

    /// Drops the role and everything granted to it.
    pub async fn drop(self, admin: &PgConfig) -> Result<()> {
        let client = admin.connect().await?;
        drop_role(&client, &self.name).await
    }
}

/// Runs `checks` on `schema` as a fresh [`CheckRole`], then drops the role (also when a check's
/// query failed; that error is returned, naming the check and Postgres' message).
pub async fn run_data_checks(
    admin: &PgConfig,
    schema: &str,
    run_id: &str,
    checks: &[DataCheck],
) -> Result<Vec<CheckResult>> {
    if checks.is_empty() {
        return Ok(Vec::new());
    }
    let role = CheckRole::create(admin, schema, run_id).await?;
    let results = async {
        let client = role.pg().connect().await?;
        let mut out = Vec::new();
        for c in checks {
            out.push(faultline_oracle::run_data_check(&client, schema, c).await?);
        }
        Ok::<_, RunnerError>(out)
    }
    .await;
    let dropped = role.drop(admin).await;
    let results = results?;
    dropped?;
    Ok(results)
}

/// Drops `name` if it exists, with its privileges and default privileges in this database.
/// Sessions still open as the role (none normally: the checks' client is gone) are ended first.
async fn drop_role(client: &tokio_postgres::Client, name: &str) -> Result<()> {
    let exists = client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
        .await?
        .is_some();
    if !exists {
        return Ok(());
    }
    client
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
            &[&name],
        )
        .await?;
    client
        .batch_execute(&format!("DROP OWNED BY {name}; DROP ROLE {name};"))
        .await
        .map_err(|e| role_error(name, "drop", &e))
}

fn role_error(name: &str, what: &str, e: &tokio_postgres::Error) -> RunnerError {
    let why = e
        .as_db_error()
        .map_or_else(|| e.to_string(), |d| d.message().to_string());
    RunnerError::Usage(format!(
        "cannot {what} the data checks' role {name}: {why} (the harness's Postgres user needs CREATEROLE)"
    ))
}

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
