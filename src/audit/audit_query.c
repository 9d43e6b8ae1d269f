/*
 * audit_query.c -- the audit trail filtered for the data-protection
 * officer's view, and its CSV (audit_query.h; issue 20, point 4).
 *
 * The store narrows by controller, subject and time in SQL (the trail's
 * indexes: audit_at, the subject's runs); actor, purpose and decision are
 * compared here, row by row, as the entries stream past, and the walk
 * stops one entry after the page is full.
 */
#include "audit_query.h"

#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"

void
audit_query_init(struct audit_query *q, const char *controller)
{
	memset(q, 0, sizeof(*q));
	q->controller = controller;
	q->decision = -1;
	q->from_at = INT64_MIN;
	q->to_at = INT64_MAX;
}

struct query_walk {
	const struct audit_query *q;
	enum vaern_err (*fn)(void *arg, const struct audit_record *r);
	void *arg;
	int64_t given; /* entries passed to fn */
	int full;      /* 1: a further match was seen after the page */
};

static int
same(const char *want, const char *have)
{
	return want == NULL || (have != NULL && strcmp(want, have) == 0);
}

static enum vaern_err
query_one(void *arg, const struct audit_record *r)
{
	struct query_walk *w = arg;
	const struct audit_query *q = w->q;

	if (r->malformed) {
		if (q->actor != NULL || q->purpose != NULL || q->decision >= 0)
			return VAERN_OK;
	} else if (!same(q->actor, r->entry.actor) ||
	           !same(q->purpose, r->entry.purpose) ||
	           (q->decision >= 0 && r->entry.allowed != q->decision)) {
		return VAERN_OK;
	}
	if (q->limit > 0 && w->given == q->limit) {
		/* One past the page: there is a next one. Stop here. */
		w->full = 1;
		return VAERN_E_LIMIT;
	}
	w->given++;
	return w->fn(w->arg, r);
}

enum vaern_err
audit_query_run(const char *db_path, const struct audit_query *q,
                enum vaern_err (*fn)(void *arg, const struct audit_record *r),
                void *arg, int *more, struct vaern_msg *msg)
{
	struct audit_filter f;
	struct query_walk w = {q, fn, arg, 0, 0};
	enum vaern_err err;

	if (more != NULL)
		*more = 0;
	if (q->controller == NULL || q->limit < 0 || q->after_seq < 0 ||
	    q->from_at > q->to_at || q->decision < -1 || q->decision > 1)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "audit query: a bound is out of range");
	memset(&f, 0, sizeof(f));
	f.subject = q->subject;
	f.from_at = q->from_at;
	f.to_at = q->to_at;
	f.after_seq = q->after_seq;
	/* With no filter left for C, the store can stop the walk itself. */
	f.limit = q->limit > 0 && q->actor == NULL && q->purpose == NULL &&
	                          q->decision < 0
	                  ? q->limit + 1
	                  : 0;
	f.controller = q->controller;
	err = audit_read(db_path, &f, query_one, &w, msg);
	if (w.full) {
		if (more != NULL)
			*more = 1;
		if (err == VAERN_E_LIMIT)
			err = VAERN_OK;
	}
	return err;
}

long
audit_csv_cell(const char *text, char *out, size_t size)
{
	size_t n = 0;
	int quote, guard;

	if (size == 0)
		return -1;
	out[0] = '\0';
	if (text == NULL)
		return 0;
	/* CSV injection (OWASP): a cell a spreadsheet would run as a
	 * formula starts with an apostrophe instead. */
	guard = text[0] == '=' || text[0] == '+' || text[0] == '-' ||
	        text[0] == '@' || text[0] == '\t' || text[0] == '\r';
	quote = strpbrk(text, ",\"\r\n") != NULL;
#define PUT(c)                                                                 \
	do {                                                                   \
		if (n + 1 >= size) {                                           \
			out[0] = '\0';                                         \
			return -1;                                             \
		}                                                              \
		out[n++] = (c);                                                \
	} while (0)
	if (quote)
		PUT('"');
	if (guard)
		PUT('\'');
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '"')
			PUT('"');
		PUT(*p);
	}
	if (quote)
		PUT('"');
#undef PUT
	out[n] = '\0';
	return (long)n;
}

const char *
audit_csv_header(void)
{
	return "seq,at,controller,actor,role,purpose,action,subject,"
	       "categories,decision,rule,reason,policy,hash\r\n";
}

long
audit_csv_line(const struct audit_record *r, const char *subject, char *out)
{
	static const char hexd[] = "0123456789abcdef";
	const struct audit_entry *e = &r->entry;
	char at[21], hash[AUDIT_HASH_HEX];
	const char *cells[14];
	char seq[24];
	size_t n = 0;
	long k;

	(void)snprintf(seq, sizeof(seq), "%lld", (long long)r->seq);
	cal_format_instant(r->at, at);
	for (size_t i = 0; i < AUDIT_HASH_BYTES; i++) {
		hash[2 * i] = hexd[r->hash[i] >> 4];
		hash[2 * i + 1] = hexd[r->hash[i] & 15];
	}
	hash[2 * AUDIT_HASH_BYTES] = '\0';
	cells[0] = seq;
	cells[1] = at;
	cells[2] = e->controller;
	cells[3] = e->actor;
	cells[4] = e->role;
	cells[5] = e->purpose;
	cells[6] = e->action;
	cells[7] = subject;
	cells[8] = e->categories;
	cells[9] = r->malformed ? "malformed"
	           : e->allowed ? "allowed"
	                        : "denied";
	cells[10] = e->rule;
	cells[11] = e->reason;
	cells[12] = e->policy;
	cells[13] = hash;
	for (size_t i = 0; i < 14; i++) {
		if (i > 0) {
			if (n + 1 >= AUDIT_CSV_LINE_MAX)
				return -1;
			out[n++] = ',';
		}
		k = audit_csv_cell(cells[i], out + n, AUDIT_CSV_LINE_MAX - n);
		if (k < 0)
			return -1;
		n += (size_t)k;
	}
	if (n + 3 > AUDIT_CSV_LINE_MAX)
		return -1;
	out[n++] = '\r';
	out[n++] = '\n';
	out[n] = '\0';
	return (long)n;
}
