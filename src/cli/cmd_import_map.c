/*
 * cmd_import_map.c -- vaern import's mapping (docs/import.md): which
 * column of the CSV file is which category, consent, event or collection
 * time, from the --map file, the --column arguments and the header
 * (cmd_import.c reads the rows and writes them).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../calendar/calendar.h"
#include "../common/crash.h"
#include "../ids/ids.h"
#include "../vault/vault.h"
#include "cli.h"
#include "csv.h"
#include "import_internal.h"

/* Prints a header for a message: at most IMPORT_HEADER_SHOWN characters,
 * control characters and quotes shown as '?'. */
void
import_put_header(const char *h)
{
	size_t shown = 0;

	fputc('"', stderr);
	for (const unsigned char *p = (const unsigned char *)h; *p; p++) {
		if ((*p & 0xc0) != 0x80 && ++shown > IMPORT_HEADER_SHOWN) {
			fputs("...", stderr);
			break;
		}
		fputc(*p < 0x20 || *p == 0x7f || *p == '"' ? '?' : *p, stderr);
	}
	fputc('"', stderr);
}

/* A mapping problem: "WHERE: column "H": text". */
static void map_problem(struct mapping *m, const char *where,
                        const char *header, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static void
map_problem(struct mapping *m, const char *where, const char *header,
            const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", where);
	if (header != NULL) {
		fputs("column ", stderr);
		import_put_header(header);
		fputs(": ", stderr);
	}
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	m->problems++;
}

/* Lower case, spaces and hyphens as underscores, blanks trimmed: how a
 * header is compared with the policy's ids. */
static void
header_key(const char *h, char *out, size_t outsz)
{
	size_t n = 0, len;

	while (*h == ' ' || *h == '\t')
		h++;
	len = strlen(h);
	while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t'))
		len--;
	for (size_t i = 0; i < len && n + 1 < outsz; i++) {
		char c = h[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (c == ' ' || c == '-')
			c = '_';
		out[n++] = c;
	}
	out[n] = '\0';
}

static long
find_column(const struct mapping *m, const char *header)
{
	for (size_t i = 0; i < m->ncolumns; i++) {
		if (strcmp(m->headers[i], header) == 0)
			return (long)i;
	}
	return -1;
}

/* Fills e (for column col) from a category, choosing its purpose: the one
 * named, or the first --purpose that uses the category. */
static int
resolve_fact(struct mapping *m, const struct import_args *a, const char *where,
             const char *header, const char *category, const char *purpose,
             struct entry *e)
{
	const struct policy *p = m->policy;
	long ci = policy_category_index(p, category), pi = -1;

	if (ci < 0) {
		map_problem(m, where, header,
		            "the policy of '%s' has no category '%.64s'",
		            p->controller.id, category);
		return -1;
	}
	if (purpose != NULL) {
		if ((pi = policy_purpose_index(p, purpose)) < 0) {
			map_problem(m, where, header,
			            "the policy of '%s' has no purpose '%.64s'",
			            p->controller.id, purpose);
			return -1;
		}
		if (!policy_purpose_uses(p, (size_t)pi, (size_t)ci)) {
			map_problem(m, where, header,
			            "purpose '%s' does not use category '%s'",
			            p->purposes[pi].id, p->categories[ci].id);
			return -1;
		}
	} else {
		for (int k = 0; k < a->npurposes && pi < 0; k++) {
			long cand = policy_purpose_index(p, a->purposes[k]);

			if (cand >= 0 &&
			    policy_purpose_uses(p, (size_t)cand, (size_t)ci))
				pi = cand;
		}
		if (pi < 0) {
			map_problem(m, where, header,
			            a->npurposes == 0
			                    ? "no purpose for category '%s' "
			                      "(give --purpose P, or map it "
			                      "as %s@PURPOSE)"
			                    : "none of the --purpose given "
			                      "uses category '%s' (map it as "
			                      "%s@PURPOSE)",
			            p->categories[ci].id, p->categories[ci].id);
			return -1;
		}
	}
	e->kind = COL_FACT;
	e->category = p->categories[ci].id;
	e->identifier = p->categories[ci].format == FORMAT_IDENTIFIER
	                        ? p->categories[ci].identifier
	                        : ID_NONE;
	e->purpose = p->purposes[pi].id;
	return 0;
}

/*
 * Adds the entries SPEC says for column col (spec is modified: it is the
 * caller's copy, and consent sources point into it).
 */
static int
add_entry(struct mapping *m, const struct import_args *a, const char *where,
          size_t col, char *spec)
{
	const struct policy *p = m->policy;
	const char *header = m->headers[col];
	struct entry e;

	memset(&e, 0, sizeof(e));
	e.column = col;
	e.consent = -1;
	if (m->nentries == IMPORT_ENTRIES_MAX) {
		map_problem(m, where, NULL, "more than %d mappings",
		            IMPORT_ENTRIES_MAX);
		return -1;
	}
	if (strcmp(spec, "-") == 0 || strcmp(spec, "ignore") == 0) {
		e.kind = COL_IGNORE;
	} else if (strcmp(spec, "collected_at") == 0) {
		if (m->collected >= 0) {
			map_problem(m, where, header,
			            "a second collected_at column");
			return -1;
		}
		e.kind = COL_COLLECTED;
		m->collected = (long)m->nentries;
	} else if (strncmp(spec, "event:", 6) == 0) {
		long ei = policy_event_index(p, spec + 6);

		if (ei < 0) {
			map_problem(m, where, header,
			            "the policy of '%s' declares no event "
			            "'%.64s'",
			            p->controller.id, spec + 6);
			return -1;
		}
		e.kind = COL_EVENT;
		e.event = p->events[ei].id;
		m->nevents++;
	} else if (strncmp(spec, "consent:", 8) == 0) {
		char *purpose = spec + 8, *source = strchr(purpose, ':');
		long pi;
		int known = 0;

		if (source == NULL || source == purpose || source[1] == '\0') {
			map_problem(m, where, header,
			            "a consent column is "
			            "consent:PURPOSE:SOURCE");
			return -1;
		}
		*source++ = '\0';
		if ((pi = policy_purpose_index(p, purpose)) < 0) {
			map_problem(m, where, header,
			            "the policy of '%s' has no purpose '%.64s'",
			            p->controller.id, purpose);
			return -1;
		}
		for (size_t k = 0; k < p->purposes[pi].nconsent_sources; k++)
			known |= strcmp(p->purposes[pi].consent_sources[k],
			                source) == 0;
		if (!known) {
			map_problem(m, where, header,
			            "'%.64s' is not a way the policy records "
			            "consent to '%s'",
			            source, p->purposes[pi].id);
			return -1;
		}
		e.kind = COL_CONSENT;
		e.purpose = p->purposes[pi].id;
		e.source = source;
		m->nconsents++;
	} else {
		char *at = strchr(spec, '@');

		if (at != NULL)
			*at++ = '\0';
		if (resolve_fact(m, a, where, header, spec, at, &e) != 0)
			return -1;
		m->nfacts++;
	}
	m->entries[m->nentries++] = e;
	return 0;
}

/* Trims blanks at both ends of s, in place. */
static char *
trim(char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 &&
	       (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
		s[--len] = '\0';
	return s;
}

/*
 * One "HEADER = SPEC" (split at the last '=', so a header may hold one);
 * text is modified.
 */
static void
map_line(struct mapping *m, const struct import_args *a, const char *where,
         char *text)
{
	char *eq = strrchr(text, '='), *header, *spec;
	long col;

	if (eq == NULL) {
		map_problem(m, where, NULL, "expected HEADER = SPEC");
		return;
	}
	*eq = '\0';
	header = trim(text);
	spec = trim(eq + 1);
	if (header[0] == '\0' || spec[0] == '\0') {
		map_problem(m, where, NULL, "expected HEADER = SPEC");
		return;
	}
	if ((col = find_column(m, header)) < 0) {
		fprintf(stderr, "%s: no column ", where);
		import_put_header(header);
		fprintf(stderr, " in %s\n", m->file);
		m->problems++;
		return;
	}
	m->named[col] = 1;
	(void)add_entry(m, a, where, (size_t)col, spec);
}

/* Reads the --map file: "HEADER = SPEC" lines, # comments. */
static int
read_map_file(struct mapping *m, const struct import_args *a)
{
	FILE *f = fopen(a->map, "rb");
	char where[4200];
	size_t len;
	unsigned long line = 1;
	char *p;

	if (f == NULL) {
		fprintf(stderr, "vaern import: --map %s: cannot open\n",
		        a->map);
		return EXIT_FAILURE_;
	}
	if ((m->map_text = malloc(IMPORT_MAP_MAX + 1)) == NULL) {
		fclose(f);
		return cli_report("import", VAERN_E_NOMEM, NULL);
	}
	len = fread(m->map_text, 1, IMPORT_MAP_MAX + 1, f);
	fclose(f);
	if (len > IMPORT_MAP_MAX) {
		fprintf(stderr, "vaern import: --map %s: over %d bytes\n",
		        a->map, IMPORT_MAP_MAX);
		return EXIT_REFUSED;
	}
	if (memchr(m->map_text, '\0', len) != NULL) {
		fprintf(stderr, "vaern import: --map %s: not a text file\n",
		        a->map);
		return EXIT_REFUSED;
	}
	m->map_text[len] = '\0';
	for (p = m->map_text; *p != '\0'; line++) {
		char *nl = strchr(p, '\n'), *text;

		if (nl != NULL)
			*nl = '\0';
		text = trim(p);
		if (text[0] != '\0' && text[0] != '#') {
			(void)snprintf(where, sizeof(where), "%s:%lu", a->map,
			               line);
			map_line(m, a, where, text);
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return EXIT_OK;
}

/*
 * Builds the mapping from the header record: the --map file, then the
 * --column arguments, then the default for every column neither names (a
 * header that is a category, an event, or collected_at). Prints every
 * problem; returns EXIT_OK or the exit code.
 */
int
import_build_mapping(struct mapping *m, const struct import_args *a,
                     const struct csv_record *header)
{
	const struct policy *p = m->policy;
	char where[4200], key[POLICY_NAME_MAX + 2];
	int rc;

	m->collected = -1;
	m->collected_default = INT64_MIN;
	m->ncolumns = header->nfields;
	m->headers = calloc(header->nfields, sizeof(*m->headers));
	m->named = calloc(header->nfields, sizeof(*m->named));
	if (m->headers == NULL || m->named == NULL)
		return cli_report("import", VAERN_E_NOMEM, NULL);
	for (size_t i = 0; i < header->nfields; i++) {
		if ((m->headers[i] = strdup(header->fields[i])) == NULL)
			return cli_report("import", VAERN_E_NOMEM, NULL);
	}
	(void)snprintf(where, sizeof(where), "%.4096s:%lu", m->file,
	               header->line);
	for (size_t i = 0; i < m->ncolumns; i++) {
		long first = find_column(m, m->headers[i]);

		if (m->headers[i][0] == '\0')
			map_problem(m, where, NULL, "column %zu has no header",
			            i + 1);
		else if (first != (long)i)
			map_problem(m, where, m->headers[i],
			            "column %zu has the same header as column "
			            "%ld",
			            i + 1, first + 1);
	}
	for (int k = 0; k < a->npurposes; k++) {
		if (policy_purpose_index(p, a->purposes[k]) < 0)
			map_problem(m, "--purpose", NULL,
			            "the policy of '%s' has no purpose '%.64s'",
			            p->controller.id, a->purposes[k]);
	}
	if (m->problems)
		goto refuse;
	if (a->map != NULL && (rc = read_map_file(m, a)) != EXIT_OK)
		return rc;
	for (int k = 0; k < a->ncolumns; k++)
		map_line(m, a, "--column", a->columns[k]);
	if (a->collected_at != NULL) {
		long col = find_column(m, a->collected_at);
		struct vaern_msg why = {{0}};

		if (col >= 0) {
			char spec[] = "collected_at";

			if (m->named[col])
				map_problem(m, "--collected-at",
				            m->headers[col],
				            "the column is mapped already");
			m->named[col] = 1;
			(void)add_entry(m, a, "--collected-at", (size_t)col,
			                spec);
		} else if (cal_parse_instant(a->collected_at,
		                             &m->collected_default,
		                             &why) != VAERN_OK) {
			fprintf(stderr,
			        "vaern import: --collected-at: not a column of "
			        "%s, nor a date or an instant: %s\n",
			        m->file, why.text);
			return EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < m->ncolumns; i++) {
		char spec[POLICY_NAME_MAX + 16];

		if (m->named[i])
			continue;
		header_key(m->headers[i], key, sizeof(key));
		if (policy_category_index(p, key) >= 0) {
			(void)snprintf(spec, sizeof(spec), "%s", key);
		} else if (strcmp(key, "collected_at") == 0) {
			(void)snprintf(spec, sizeof(spec), "collected_at");
		} else if (policy_event_index(p, key) >= 0) {
			(void)snprintf(spec, sizeof(spec), "event:%s", key);
		} else {
			map_problem(
			        m, where, m->headers[i],
			        "neither a category nor an event of '%s'; "
			        "map it (--column HEADER=CATEGORY) or leave "
			        "it out (--column HEADER=-)",
			        p->controller.id);
			continue;
		}
		(void)add_entry(m, a, where, i, spec);
	}
	/* Facts under a purpose with a consent column: only where given. */
	for (size_t i = 0; i < m->nentries; i++) {
		struct entry *e = &m->entries[i];

		for (size_t k = 0; k < m->nentries && e->kind == COL_FACT;
		     k++) {
			if (m->entries[k].kind == COL_CONSENT &&
			    strcmp(m->entries[k].purpose, e->purpose) == 0) {
				e->consent = (long)k;
				break;
			}
		}
	}
	if (m->problems == 0 && m->nfacts == 0)
		map_problem(m, where, NULL,
		            "no column is mapped to a category");
	if (m->problems == 0)
		return EXIT_OK;
refuse:
	fprintf(stderr,
	        "vaern import: %d problem%s with the mapping; nothing was "
	        "imported (docs/import.md)\n",
	        m->problems, m->problems == 1 ? "" : "s");
	return EXIT_REFUSED;
}

void
import_mapping_free(struct mapping *m)
{
	for (size_t i = 0; m->headers != NULL && i < m->ncolumns; i++)
		free(m->headers[i]);
	free(m->headers);
	free(m->named);
	free(m->map_text);
}
