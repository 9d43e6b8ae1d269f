/*
 * fuzz_pg_sql.c -- libFuzzer harness for the PostgreSQL engine's SQL
 * translation (src/store/db_pg_sql.c, issue 14).
 *
 * Feeds each input, as one SQL text, to dbpg_sql_translate,
 * dbpg_sql_begin_mode and dbpg_sql_is_rollback. Besides the sanitizers
 * (the output buffer is sized from the input) it checks the contract of
 * db_pg_internal.h: the highest number is used and in range; a text
 * with nothing to translate (no ?, no $, no "main", no BEGIN) comes back
 * as it went in.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/db_pg_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
has_word(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, w, n) == 0)
			return 1;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char used[DBPG_PARAMS_MAX + 1];
	char err[128], *sql, *out;
	int n = -1;

	if (size > 1 << 16 || (sql = malloc(size + 1)) == NULL)
		return 0;
	memcpy(sql, data, size);
	sql[size] = '\0';
	memset(used, 0, sizeof(used));
	err[0] = '\0';
	out = dbpg_sql_translate(sql, &n, used, err, sizeof(err));
	if (out == NULL) {
		if (err[0] == '\0')
			abort();
	} else {
		if (n < 0 || n > DBPG_PARAMS_MAX || (n > 0 && !used[n]))
			abort();
		if (strchr(sql, '?') == NULL && strchr(sql, '$') == NULL &&
		    !has_word(sql, "main") && !has_word(sql, "begin") &&
		    strcmp(out, sql) != 0)
			abort();
		free(out);
	}
	(void)dbpg_sql_begin_mode(sql);
	(void)dbpg_sql_is_rollback(sql);
	free(sql);
	return 0;
}
