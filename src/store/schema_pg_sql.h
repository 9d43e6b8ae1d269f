/* Placeholder until schema_pg.sql lands (issue 14). */
static const char schema_pg_sql[] = "SELECT 1";
