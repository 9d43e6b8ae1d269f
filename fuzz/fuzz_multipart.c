/*
 * fuzz_multipart.c -- libFuzzer harness for the portal's
 * multipart/form-data parser (src/web/web_multipart.c; issue 17). The
 * input's first line is the Content-Type, the rest the body, parsed
 * against the weakness report's fields. Contracts checked: a refusal is
 * a 4xx or 503 with a message and leaves nothing behind; an accepted
 * form's parts lie inside the body, within their field's limit and
 * count, and a text part is NUL-terminated text without control
 * characters but tab and line feed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "web/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct web_part_field fields[] = {
        {"token", 128, 1, 0, 0}, {"description", 256, 1, 0, 1},
        {"where", 64, 1, 0, 0},  {"screenshot", 4096, 5, 1, 0},
        {NULL, 0, 0, 0, 0},
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct web_multipart m;
	struct vaern_msg msg;
	unsigned counts[4] = {0};
	char *type;
	size_t tlen, blen;
	unsigned char *body;
	int st;

	if (nl == NULL)
		return 0;
	tlen = (size_t)(nl - data);
	blen = size - tlen - 1;
	if ((type = malloc(tlen + 1)) == NULL)
		return 0;
	memcpy(type, data, tlen);
	type[tlen] = '\0';
	/* The body in a buffer of its own size: ASan sees any overread. */
	if ((body = malloc(blen ? blen : 1)) == NULL) {
		free(type);
		return 0;
	}
	memcpy(body, nl + 1, blen);
	st = web_multipart(strlen(type) == tlen ? type : NULL, body, blen,
	                   fields, &m, &msg);
	if (st != 0) {
		if (!((st >= 400 && st < 500) || st == 503) ||
		    msg.text[0] == '\0' || m.nparts != 0)
			abort();
	} else {
		if (m.nparts > WEB_PARTS_MAX)
			abort();
		for (size_t i = 0; i < m.nparts; i++) {
			const struct web_part *p = &m.parts[i];

			if (p->field >= 4 || p->len > fields[p->field].max ||
			    p->data < body || p->data + p->len > body + blen ||
			    ++counts[p->field] > fields[p->field].count)
				abort();
			if (fields[p->field].file != (p->text == NULL))
				abort();
			for (const char *c = p->text; c != NULL && *c; c++)
				if ((unsigned char)*c < 0x20 && *c != '\t' &&
				    *c != '\n')
					abort();
		}
	}
	web_multipart_free(&m);
	free(body);
	free(type);
	return 0;
}
