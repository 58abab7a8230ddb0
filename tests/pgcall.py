"""The SQL type of every named argument of pgpart's functions, shared by the
test helpers: each placeholder gets a cast, so no call depends on how psycopg
dumps a Python value."""

ARG_TYPES: dict[str, str] = {
    "parent": "regclass",
    "premake": "integer",
    "start": "text",
    "time_zone": "text",
    "origin": "text",
    "tablespace": "name",
    "default_partition": "boolean",
    "reloptions": "text[]",
    "lock_timeout": "interval",
    "lock_retries": "integer",
    "now_at": "timestamptz",
    "dry_run": "boolean",
    "online": "boolean",
    "retention": "text",
    "retention_action": "text",
    "archive_schema": "name",
    "archive_tablespace": "name",
    "automatic_maintenance": "boolean",
    "analyze_after": "boolean",
    "referenced_retention": "text",
    "reconcile": "boolean",
    "propagate_grants": "boolean",
    "move_large_bytes": "bigint",
    "subpartition": "jsonb",
    "max_new": "integer",
}
