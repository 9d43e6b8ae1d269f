/*
 * web_multipart.c -- a strict, bounded multipart/form-data parser (RFC
 * 7578, RFC 2046 section 5.1) for the portal's forms that carry files
 * (web.h; issue 17's weakness report with screenshots).
 *
 * Strict on purpose: a form the portal wrote has one boundary in its
 * Content-Type, no preamble, no epilogue beyond a final CRLF, and parts
 * with a Content-Disposition (form-data, a quoted name, a quoted filename
 * for a file) and at most a Content-Type; anything else is refused with
 * the field or the rule at fault, never a value. Every limit is checked
 * while parsing: parts, header line length, each value's size, each
 * field's count. Files are not copied (they point into the request body,
 * which the server holds in memory; no temporary file); text values are
 * copied NUL-terminated and wiped when freed.
 */
/* memmem: _GNU_SOURCE is set for the whole build (meson.build). */
#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/utf8.h"
#include "web.h"

/* RFC 2046 bchars (space allowed, but not as the last one). */
static int
bchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || strchr("'()+_,-./:=? ", c) != NULL;
}

static int
ows(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* The boundary of content_type into out (WEB_BOUNDARY_MAX + 1 bytes):
 * 0, or -1 if the type is not multipart/form-data with exactly one
 * boundary parameter of 1..70 bchars. */
static int
boundary_of(const char *type, char out[WEB_BOUNDARY_MAX + 1])
{
	const char *p = type;
	size_t n = 0;
	int quoted;

	while (ows((unsigned char)*p))
		p++;
	if (strncasecmp(p, "multipart/form-data", 19) != 0)
		return -1;
	p += 19;
	while (ows((unsigned char)*p))
		p++;
	if (*p++ != ';')
		return -1;
	while (ows((unsigned char)*p))
		p++;
	if (strncasecmp(p, "boundary=", 9) != 0)
		return -1;
	p += 9;
	if ((quoted = *p == '"'))
		p++;
	while (*p != '\0' && *p != '"' && bchar((unsigned char)*p) &&
	       (quoted || *p != ' ')) {
		if (n == WEB_BOUNDARY_MAX)
			return -1;
		out[n++] = *p++;
	}
	out[n] = '\0';
	if (n == 0 || out[n - 1] == ' ')
		return -1;
	if (quoted && *p++ != '"')
		return -1;
	while (ows((unsigned char)*p))
		p++;
	return *p == '\0' ? 0 : -1; /* no other parameter */
}

/* A header line's characters: visible ASCII, space, tab, or UTF-8 (a
 * filename), never a control character. */
static int
line_ok(const unsigned char *s, size_t len)
{
	size_t i = 0;

	if (utf8_valid_prefix(s, len) != len)
		return 0;
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0 || (utf8_is_control(cp) && cp != '\t'))
			return 0;
		i += n;
	}
	return 1;
}

/* The parameters of a Content-Disposition after "form-data": name and
 * filename, each at most once and quoted (no backslash, no quote
 * inside: browsers percent-encode those). 0, or -1 when malformed. */
static int
disposition(const char *v, const char **name, size_t *nlen,
            const char **filename, size_t *flen)
{
	const char *p = v;

	*name = *filename = NULL;
	*nlen = *flen = 0;
	while (ows((unsigned char)*p))
		p++;
	if (strncasecmp(p, "form-data", 9) != 0)
		return -1;
	p += 9;
	for (;;) {
		const char **which, *q;
		size_t *wlen;

		while (ows((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (*p++ != ';')
			return -1;
		while (ows((unsigned char)*p))
			p++;
		if (strncasecmp(p, "name=\"", 6) == 0) {
			which = name;
			wlen = nlen;
			p += 6;
		} else if (strncasecmp(p, "filename=\"", 10) == 0) {
			which = filename;
			wlen = flen;
			p += 10;
		} else {
			return -1; /* filename* and the like: not ours */
		}
		if (*which != NULL)
			return -1; /* twice */
		if ((q = strchr(p, '"')) == NULL)
			return -1;
		if (memchr(p, '\\', (size_t)(q - p)) != NULL)
			return -1;
		*which = p;
		*wlen = (size_t)(q - p);
		p = q + 1;
	}
	return *name != NULL ? 0 : -1;
}

/* Checks and copies a text value (UTF-8, no NUL, no control character
 * but tab and, when multiline, CRLF or LF line breaks, stored as LF)
 * into a new NUL-terminated string; NULL if it is not such text (or no
 * memory: *nomem). */
static char *
text_copy(const unsigned char *s, size_t len, int multiline, int *nomem)
{
	char *out;
	size_t i = 0, w = 0;

	*nomem = 0;
	if (utf8_valid_prefix(s, len) != len)
		return NULL;
	if ((out = malloc(len + 1)) == NULL) {
		*nomem = 1;
		return NULL;
	}
	while (i < len) {
		uint32_t cp;
		size_t n = utf8_decode(s + i, len - i, &cp);

		if (n == 0)
			goto bad;
		if (cp == '\r' && multiline && i + 1 < len &&
		    s[i + 1] == '\n') {
			i++; /* CRLF is one line break */
			continue;
		}
		if (utf8_is_control(cp) && cp != '\t' &&
		    !(cp == '\n' && multiline))
			goto bad;
		memcpy(out + w, s + i, n);
		w += n;
		i += n;
	}
	out[w] = '\0';
	return out;
bad:
	sodium_memzero(out, len + 1);
	free(out);
	return NULL;
}

/* Every message names at most the field and a number, never a value. */
#define MP_FAIL(status, err, ...)                                              \
	do {                                                                   \
		(void)vaern_fail(msg, (err), __VA_ARGS__);                     \
		st = (status);                                                 \
		goto fail;                                                     \
	} while (0)

int
web_multipart(const char *content_type, const unsigned char *body, size_t len,
              const struct web_part_field *fields, struct web_multipart *out,
              struct vaern_msg *msg)
{
	char boundary[WEB_BOUNDARY_MAX + 1];
	char delim[WEB_BOUNDARY_MAX + 5]; /* "\r\n--" boundary */
	unsigned counts[WEB_PART_FIELDS_MAX] = {0};
	size_t dlen, pos, nfields, seen = 0;
	int st = 400;

	memset(out, 0, sizeof(*out));
	for (nfields = 0; fields[nfields].name != NULL; nfields++)
		;
	assert(nfields <= WEB_PART_FIELDS_MAX);
	if (content_type == NULL || boundary_of(content_type, boundary) != 0)
		MP_FAIL(415, VAERN_E_INVALID,
		        "the form is multipart/form-data with one boundary");
	dlen = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	/* No preamble: the body opens with the first delimiter. */
	if (len < dlen || memcmp(body, delim + 2, dlen - 2) != 0 ||
	    body[dlen - 2] != '\r' || body[dlen - 1] != '\n')
		MP_FAIL(400, VAERN_E_INVALID,
		        "the form does not open with its boundary");
	pos = dlen;
	for (;;) {
		const char *name = NULL;
		size_t k = nfields, clen;
		const unsigned char *end;
		int have_disp = 0, have_type = 0, named_file = 0;

		if (++seen > WEB_PARTS_MAX)
			MP_FAIL(413, VAERN_E_LIMIT,
			        "the form has more than %d parts",
			        WEB_PARTS_MAX);
		/* The part's header lines, up to the empty line. */
		for (;;) {
			char line[WEB_PART_HEADER_MAX + 1], *colon;
			const char *pname, *pfile;
			const unsigned char *eol;
			size_t room = len - pos, llen, nlen, flen;

			if (room > WEB_PART_HEADER_MAX + 2)
				room = WEB_PART_HEADER_MAX + 2;
			if ((eol = memmem(body + pos, room, "\r\n", 2)) == NULL)
				MP_FAIL(400, VAERN_E_INVALID,
				        "part %zu: a header line over %d bytes "
				        "or not ended by CRLF",
				        seen, WEB_PART_HEADER_MAX);
			llen = (size_t)(eol - (body + pos));
			if (llen == 0) {
				pos += 2;
				break;
			}
			memcpy(line, body + pos, llen);
			line[llen] = '\0';
			pos += llen + 2;
			if (!line_ok((const unsigned char *)line, llen) ||
			    (colon = strchr(line, ':')) == NULL)
				MP_FAIL(400, VAERN_E_INVALID,
				        "part %zu: a malformed header line",
				        seen);
			*colon = '\0';
			if (strcasecmp(line, "Content-Type") == 0 &&
			    !have_type) {
				have_type = 1; /* a file's kind is read from
				                  its bytes, not from here */
				continue;
			}
			if (strcasecmp(line, "Content-Disposition") != 0 ||
			    have_disp)
				MP_FAIL(400, VAERN_E_INVALID,
				        "part %zu: a header other than one "
				        "Content-Disposition and one "
				        "Content-Type",
				        seen);
			have_disp = 1;
			if (disposition(colon + 1, &pname, &nlen, &pfile,
			                &flen) != 0)
				MP_FAIL(400, VAERN_E_INVALID,
				        "part %zu: a malformed "
				        "Content-Disposition",
				        seen);
			for (k = 0; k < nfields; k++)
				if (strlen(fields[k].name) == nlen &&
				    memcmp(fields[k].name, pname, nlen) == 0)
					break;
			if (k == nfields)
				MP_FAIL(400, VAERN_E_INVALID,
				        "part %zu: an unknown form field",
				        seen);
			name = fields[k].name;
			if ((pfile != NULL) != (fields[k].file != 0))
				MP_FAIL(400, VAERN_E_INVALID,
				        fields[k].file
				                ? "form field '%s' (part %zu) "
				                  "is "
				                  "a file: it needs a filename"
				                : "form field '%s' (part %zu) "
				                  "is "
				                  "text, not a file",
				        name, seen);
			/* The file's name is not kept (personal data,
			 * perhaps): only whether one was given. */
			named_file = pfile != NULL && flen > 0;
		}
		if (!have_disp)
			MP_FAIL(400, VAERN_E_INVALID,
			        "part %zu: no Content-Disposition", seen);
		if ((end = memmem(body + pos, len - pos, delim, dlen)) == NULL)
			MP_FAIL(400, VAERN_E_INVALID,
			        "form field '%s' (part %zu): the body ends "
			        "inside it",
			        name, seen);
		clen = (size_t)(end - (body + pos));
		if (clen > fields[k].max)
			MP_FAIL(413, VAERN_E_LIMIT,
			        "form field '%s' (part %zu): larger than %zu "
			        "bytes",
			        name, seen, fields[k].max);
		if (fields[k].file && !named_file && clen == 0) {
			/* A file input left empty: no file. */
		} else if (counts[k] == fields[k].count) {
			if (fields[k].count == 1)
				MP_FAIL(400, VAERN_E_INVALID,
				        "form field '%s' twice", name);
			MP_FAIL(413, VAERN_E_LIMIT,
			        "form field '%s': more than %u files", name,
			        fields[k].count);
		} else {
			struct web_part *part = &out->parts[out->nparts];
			int nomem = 0;

			counts[k]++;
			part->field = k;
			part->data = body + pos;
			part->len = clen;
			if (!fields[k].file &&
			    (part->text = text_copy(body + pos, clen,
			                            fields[k].multiline,
			                            &nomem)) == NULL) {
				if (nomem)
					MP_FAIL(503, VAERN_E_NOMEM,
					        "out of memory");
				MP_FAIL(400, VAERN_E_INVALID,
				        "form field '%s': not text (UTF-8 "
				        "without control characters)",
				        name);
			}
			out->nparts++;
		}
		pos = (size_t)(end - body) + dlen;
		if (len - pos >= 2 && body[pos] == '-' &&
		    body[pos + 1] == '-') {
			pos += 2;
			/* The close delimiter: at most a CRLF after it. */
			if (pos == len ||
			    (len - pos == 2 && body[pos] == '\r' &&
			     body[pos + 1] == '\n'))
				return 0;
			MP_FAIL(400, VAERN_E_INVALID,
			        "the form has bytes after its end");
		}
		if (len - pos < 2 || body[pos] != '\r' || body[pos + 1] != '\n')
			MP_FAIL(400, VAERN_E_INVALID,
			        "part %zu: its boundary is not followed by "
			        "CRLF",
			        seen);
		pos += 2;
	}
fail:
	web_multipart_free(out);
	return st;
}

const char *
web_multipart_text(const struct web_multipart *m, size_t field)
{
	for (size_t i = 0; i < m->nparts; i++)
		if (m->parts[i].field == field && m->parts[i].text != NULL)
			return m->parts[i].text[0] != '\0' ? m->parts[i].text
			                                   : NULL;
	return NULL;
}

void
web_multipart_free(struct web_multipart *m)
{
	for (size_t i = 0; i < m->nparts; i++) {
		if (m->parts[i].text != NULL) {
			sodium_memzero(m->parts[i].text,
			               strlen(m->parts[i].text));
			free(m->parts[i].text);
		}
	}
	memset(m, 0, sizeof(*m));
}
