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
