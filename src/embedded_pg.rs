//! The private PostgreSQL cluster Parley runs when `DATABASE_URL` is unset.
//!
//! It uses the system's PostgreSQL server binaries, keeps its data under `$PARLEY_DATA_DIR/pg`,
//! listens only on 127.0.0.1 at a port chosen on first use, and requires a password generated at
//! initdb time. Run as root, the server runs as the unprivileged `postgres` system user (initdb
//! refuses root). The process that started the cluster stops it when it exits; a process that
//! found it already running leaves it alone.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use secrecy::{ExposeSecret, SecretString};

/// Name of the application database inside the private cluster.
pub const DATABASE_NAME: &str = "parley";
/// Superuser created by initdb.
const SUPERUSER: &str = "parley";
/// Unprivileged system user that runs the server when Parley runs as root.
const SYSTEM_USER: &str = "postgres";

/// Why the embedded cluster could not be used.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedPgError {
    #[error(
        "PostgreSQL server binaries were not found (looked for initdb in /usr/lib/postgresql/*/bin \
         and on PATH). Install them with `apt-get install postgresql`, or set DATABASE_URL to an \
         existing database."
    )]
    BinariesMissing,
    #[error(
        "running as root, but the `postgres` system user does not exist to run the database; \
         install Debian's `postgresql` package (it creates the user) or set DATABASE_URL"
    )]
    NoSystemUser,
    #[error("{0}")]
    Io(String),
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
}

fn io_err(context: &str, e: std::io::Error) -> EmbeddedPgError {
    EmbeddedPgError::Io(format!("{context}: {e}"))
}

/// A running private cluster.
pub struct EmbeddedPostgres {
    root: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    password: SecretString,
    run_as: Option<(String, u32, u32)>,
    started_here: bool,
    durability: Durability,
    statement_stats: bool,
}

/// Whether the server flushes commits to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Normal PostgreSQL settings: what Parley uses for real data.
    Durable,
    /// fsync and synchronous commit off: only for throwaway test clusters.
    Throwaway,
}

impl EmbeddedPostgres {
    /// Initialises (first time), starts (unless already running) and returns the cluster under
    /// `root`, with the application database created.
    pub fn start(root: &Path) -> Result<Self, EmbeddedPgError> {
        Self::start_with(root, Durability::Durable)
    }

    /// Like [`EmbeddedPostgres::start`], choosing whether commits are flushed to disk.
    pub fn start_with(root: &Path, durability: Durability) -> Result<Self, EmbeddedPgError> {
        Self::start_inner(root, durability, false)
    }

    /// A durable cluster that also collects per-statement statistics (`pg_stat_statements`,
    /// preloaded when the server starts), for benchmarks that show where the time went.
    pub fn start_profiled(root: &Path) -> Result<Self, EmbeddedPgError> {
        Self::start_inner(root, Durability::Durable, true)
    }

    fn start_inner(
        root: &Path,
        durability: Durability,
        statement_stats: bool,
    ) -> Result<Self, EmbeddedPgError> {
        let bin_dir = find_bin_dir().ok_or(EmbeddedPgError::BinariesMissing)?;
        let run_as = if is_root() {
            Some(system_user().ok_or(EmbeddedPgError::NoSystemUser)?)
        } else {
            None
        };
        fs::create_dir_all(root).map_err(|e| io_err("creating the database directory", e))?;
        let root = root
            .canonicalize()
            .map_err(|e| io_err("resolving the database directory", e))?;
        if let Some((_, uid, gid)) = &run_as {
            check_traversable(&root)?;
            std::os::unix::fs::chown(&root, Some(*uid), Some(*gid))
                .map_err(|e| io_err("giving the database directory to `postgres`", e))?;
        }
        fs::set_permissions(&root, fs::Permissions::from_mode(0o700))
            .map_err(|e| io_err("securing the database directory", e))?;

        let mut pg = EmbeddedPostgres {
            port: 0,
            password: SecretString::from(String::new()),
            root,
            bin_dir,
            run_as,
            started_here: false,
            durability,
            statement_stats,
        };
        // The secrets live beside (not inside) the cluster directory, readable only by Parley.
        let secrets = pg.secrets_dir();
        fs::create_dir_all(&secrets).map_err(|e| io_err("creating the secrets directory", e))?;
        fs::set_permissions(&secrets, fs::Permissions::from_mode(0o700))
            .map_err(|e| io_err("securing the secrets directory", e))?;

        if !pg.data_dir().join("PG_VERSION").exists() {
            pg.init()?;
        }
        pg.port = read_trimmed(&secrets.join("port"))?
            .parse()
            .map_err(|_| EmbeddedPgError::Io("the stored database port is not a number".into()))?;
        pg.password = SecretString::from(read_trimmed(&secrets.join("password"))?);

        if !pg.is_running() {
            pg.start_server()?;
            pg.started_here = true;
        }
        pg.create_database()?;
        Ok(pg)
    }

    /// The URL of the application database.
    pub fn database_url(&self) -> SecretString {
        SecretString::from(self.url_for(DATABASE_NAME))
    }

    /// The PostgreSQL binaries in use (for tools such as pgbench).
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The generated password of the cluster's superuser.
    pub fn password(&self) -> &str {
        self.password.expose_secret()
    }

    /// Port the cluster listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    fn url_for(&self, database: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{database}",
            self.password.expose_secret(),
            self.port
        )
    }

    fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    fn secrets_dir(&self) -> PathBuf {
        self.root.with_file_name(format!(
            "{}-secrets",
            self.root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "pg".into())
        ))
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin_dir.join(program);
        match &self.run_as {
            Some((user, _, _)) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    fn init(&mut self) -> Result<(), EmbeddedPgError> {
        let secrets = self.secrets_dir();
        let password = crate::crypto::random_hex(24);
        let port = free_port()?;
        // initdb reads the password from a file the server user can read; removed right after.
        let pwfile = self.root.join("initdb-password");
        write_private(&pwfile, &password)?;
        if let Some((_, uid, gid)) = &self.run_as {
            std::os::unix::fs::chown(&pwfile, Some(*uid), Some(*gid))
                .map_err(|e| io_err("preparing initdb", e))?;
        }
        let out = self
            .command("initdb")
            .arg("-D")
            .arg(self.data_dir())
            .args([
                "-U",
                SUPERUSER,
                "-A",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output();
        let _ = fs::remove_file(&pwfile);
        check("initdb", out)?;
        write_private(&secrets.join("password"), &password)?;
        write_private(&secrets.join("port"), &port.to_string())?;
        tracing::info!(dir = %self.root.display(), port, "initialised the embedded PostgreSQL cluster");
        Ok(())
    }

    fn is_running(&self) -> bool {
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("status")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    fn start_server(&self) -> Result<(), EmbeddedPgError> {
        let log = self.root.join("server.log");
        let mut options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300",
            self.port
        );
        if self.statement_stats {
            options.push_str(" -c shared_preload_libraries=pg_stat_statements");
        }
        if self.durability == Durability::Throwaway {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(&log)
            .args(["-w", "-t", "60", "-o", &options, "start"])
            .output();
        if let Err(e) = check("pg_ctl start", out) {
            let tail = fs::read_to_string(&log)
                .map(|s| s.lines().rev().take(5).collect::<Vec<_>>().join(" | "))
                .unwrap_or_default();
            return Err(EmbeddedPgError::Command {
                command: "pg_ctl start".into(),
                detail: format!("{e}; server log: {tail}"),
            });
        }
        tracing::info!(port = self.port, "started the embedded PostgreSQL server");
        Ok(())
    }

    fn create_database(&self) -> Result<(), EmbeddedPgError> {
        use diesel::prelude::*;
        let mut conn = PgConnection::establish(&self.url_for("postgres"))
            .map_err(|e| EmbeddedPgError::Io(format!("connecting to the embedded cluster: {e}")))?;
        let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}')"
        )))
        .get_result(&mut conn)
        .map_err(|e| EmbeddedPgError::Io(e.to_string()))?;
        if !exists {
            match diesel::sql_query(format!("CREATE DATABASE {DATABASE_NAME}")).execute(&mut conn) {
                Ok(_) => {}
                // Another process created it at the same moment.
                Err(diesel::result::Error::DatabaseError(_, info))
                    if info.message().contains("already exists") => {}
                Err(e) => return Err(EmbeddedPgError::Io(e.to_string())),
            }
        }
        Ok(())
    }

    /// Leaves the server running when this value is dropped (shared test clusters).
    pub fn keep_running(mut self) {
        self.started_here = false;
    }

    /// Stops the server if this process started it.
    pub fn stop(&mut self) {
        if !self.started_here {
            return;
        }
        self.started_here = false;
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "fast", "-w", "stop"])
            .output();
        match check("pg_ctl stop", out) {
            Ok(()) => tracing::info!("stopped the embedded PostgreSQL server"),
            Err(e) => tracing::warn!(error = %e, "could not stop the embedded PostgreSQL server"),
        }
    }
}

impl Drop for EmbeddedPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

fn check(command: &str, out: std::io::Result<Output>) -> Result<(), EmbeddedPgError> {
    let out = out.map_err(|e| EmbeddedPgError::Command {
        command: command.into(),
        detail: e.to_string(),
    })?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    Err(EmbeddedPgError::Command {
        command: command.into(),
        detail: format!("{} {}", stderr.trim(), stdout.trim())
            .trim()
            .to_string(),
    })
}

/// The newest `/usr/lib/postgresql/<version>/bin` with initdb, else the directory of `initdb` on PATH.
fn find_bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PARLEY_PG_BIN_DIR") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The `postgres` system user's name, uid and gid.
fn system_user() -> Option<(String, u32, u32)> {
    let passwd = fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.first() == Some(&SYSTEM_USER) && fields.len() > 3).then(|| {
            Some((
                SYSTEM_USER.to_string(),
                fields[2].parse().ok()?,
                fields[3].parse().ok()?,
            ))
        })?
    })
}

/// The `postgres` user must be able to reach the directory through every parent.
fn check_traversable(dir: &Path) -> Result<(), EmbeddedPgError> {
    for ancestor in dir.ancestors().skip(1) {
        let mode = fs::metadata(ancestor)
            .map_err(|e| io_err("checking the data directory's parents", e))?
            .permissions()
            .mode();
        if mode & 0o001 == 0 {
            return Err(EmbeddedPgError::Io(format!(
                "{} is not accessible to the `postgres` user that runs the embedded database; \
                 choose a PARLEY_DATA_DIR outside it (e.g. /var/lib/parley) or run `chmod o+x` on it",
                ancestor.display()
            )));
        }
    }
    Ok(())
}

fn free_port() -> Result<u16, EmbeddedPgError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| io_err("finding a free port", e))
}

fn write_private(path: &Path, content: &str) -> Result<(), EmbeddedPgError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| io_err(&format!("writing {}", path.display()), e))?;
    file.write_all(content.as_bytes())
        .map_err(|e| io_err(&format!("writing {}", path.display()), e))
}

fn read_trimmed(path: &Path) -> Result<String, EmbeddedPgError> {
    fs::read_to_string(path)
        .map(|s| s.trim().to_string())
        .map_err(|e| io_err(&format!("reading {}", path.display()), e))
}
