"""What the catalog tests allow by name (test_catalog_hygiene.py,
test_security.py): add a function here only with the reason beside it."""

# SECURITY DEFINER helpers, each checking what it must and taking
# fixed-shape arguments (DESIGN §6). Policy is protected by row-level
# security instead; only the event triggers, which run as whoever ran the DDL,
# need these two: a catalog-only question and their one log writer.
SECURITY_DEFINER: set[str] = {
    "pgpart._is_managed(oid)",
    "pgpart._log_event(regclass,name,text[],text,text,text,jsonb)",
}

# Overloads taking a table's name as text (pgpart._table_arg): they resolve
# the name with to_regclass in the CALLER's search_path, as the regclass
# cast of the verb they call would, so they carry no SET search_path (a
# pinned one would look 'events' up in pg_catalog). Each qualifies every
# name and only resolves, then calls its pinned verb.
RESOLVE_IN_CALLERS_SEARCH_PATH: set[str] = {
    'pgpart."check"(text,timestamp with time zone)',
    "pgpart.move_default_plan(text,interval,timestamp with time zone,boolean)",
    "pgpart.move_default_range(text,interval,integer,timestamp with time zone)",
    "pgpart.run_maintenance(text,timestamp with time zone,interval,integer,boolean,boolean)",
}
