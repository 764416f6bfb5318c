//! Finds what the processes backend runs: Java, the Kafka jars, the Postgres binaries and, as root,
//! the unprivileged user Postgres runs as. Each miss says how to fix it.

use std::path::{Path, PathBuf};

use crate::error::{InfraError, Result};

/// Paths and ids the processes backend needs.
#[derive(Debug, Clone)]
pub struct Toolchain {
    pub java: PathBuf,
    /// A Kafka distribution dir: `libs/*.jar`, `config/log4j2.properties`.
    pub kafka_home: PathBuf,
    /// Dir holding `initdb` and `postgres`.
    pub pg_bin: PathBuf,
    /// `(uid, gid)` to run Postgres as when the harness is root.
    pub pg_user: Option<(u32, u32)>,
}

/// Where `ci/` scripts put what they provision: `$FAULTLINE_CACHE`, else `~/.cache/faultline`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FAULTLINE_CACHE") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    base.join("faultline")
}

impl Toolchain {
    pub fn locate() -> Result<Self> {
        Ok(Self {
            java: find_java()?,
            kafka_home: find_kafka_home()?,
            pg_bin: find_pg_bin()?,
            pg_user: find_pg_user()?,
        })
    }
}

fn missing(what: &str, fix: &str) -> InfraError {
    InfraError::Prerequisite {
        what: what.into(),
        fix: fix.into(),
    }
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
}

fn find_java() -> Result<PathBuf> {
    if let Some(j) = std::env::var_os("FAULTLINE_JAVA") {
        return Ok(PathBuf::from(j));
    }
    if let Some(home) = std::env::var_os("JAVA_HOME") {
        let j = Path::new(&home).join("bin/java");
        if j.is_file() {
            return Ok(j);
        }
    }
    on_path("java").ok_or_else(|| {
        missing(
            "Java 17+ (for the Kafka broker)",
            "apt-get install -y openjdk-17-jre-headless, or set JAVA_HOME",
        )
    })
}

fn find_kafka_home() -> Result<PathBuf> {
    const FIX: &str = "run `bash ci/kafka-dist.sh` (assembles the jars from Maven Central), or set FAULTLINE_KAFKA_HOME to a Kafka distribution dir";
    if let Some(h) = std::env::var_os("FAULTLINE_KAFKA_HOME") {
        let h = PathBuf::from(h);
        if h.join("libs").is_dir() {
            return Ok(h);
        }
        return Err(missing(
            &format!("Kafka jars in FAULTLINE_KAFKA_HOME={}/libs", h.display()),
            FIX,
        ));
    }
    let root = cache_dir().join("kafka");
    let mut homes: Vec<PathBuf> = std::fs::read_dir(&root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join(".complete").is_file())
        .collect();
    // Newest by modification time: the one the last provisioning run assembled.
    homes.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    homes
        .pop()
        .ok_or_else(|| missing(&format!("Kafka jars (looked in {})", root.display()), FIX))
}

fn find_pg_bin() -> Result<PathBuf> {
    const FIX: &str = "apt-get install -y postgresql-15, or set FAULTLINE_PG_BIN to the dir holding initdb and postgres";
    if let Some(b) = std::env::var_os("FAULTLINE_PG_BIN") {
        return Ok(PathBuf::from(b));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, b): &(u32, PathBuf)| {
            b.join("initdb").is_file() && b.join("postgres").is_file()
        })
        .collect();
    versions.sort();
    if let Some((_, b)) = versions.pop() {
        return Ok(b);
    }
    match (on_path("initdb"), on_path("postgres")) {
        (Some(i), Some(_)) => Ok(i.parent().expect("file has a parent").to_path_buf()),
        _ => Err(missing(
            "the Postgres server binaries (initdb, postgres)",
            FIX,
        )),
    }
}

fn find_pg_user() -> Result<Option<(u32, u32)>> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(None);
    }
    let name = std::env::var("FAULTLINE_PG_USER").unwrap_or_else(|_| "postgres".into());
    let cname = std::ffi::CString::new(name.clone())
        .map_err(|_| missing("a valid FAULTLINE_PG_USER", "set it to a user name"))?;
    // SAFETY: getpwnam returns a pointer into static storage or null; we copy the ids out at once.
    let pw = unsafe { libc::getpwnam(cname.as_ptr()) };
    if pw.is_null() {
        return Err(missing(
            &format!("user `{name}` to run Postgres as (initdb refuses to run as root)"),
            "apt-get install -y postgresql-15 (creates `postgres`), or set FAULTLINE_PG_USER to a non-root user",
        ));
    }
    // SAFETY: pw checked non-null above.
    let (uid, gid) = unsafe { ((*pw).pw_uid, (*pw).pw_gid) };
    Ok(Some((uid, gid)))
}
