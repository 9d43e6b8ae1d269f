/*
 * fuzz_ids.c -- libFuzzer harness for the identifier parsers.
 *
 * Feeds each input to id_normalise for every type, default country and a
 * few reference dates, and to id_contains_card_number. Besides the
 * sanitizers it checks the contract of ids.h: a success writes a
 * non-empty normal form that normalises to itself (one blind index per
 * identifier); a failure leaves out empty and says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ids/ids.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One byte past ID_INPUT_MAX, so the too-long path is reached too. */
#define FUZZ_INPUT_MAX (ID_INPUT_MAX + 1)

static void
check_one(enum id_type type, const char *in, const char *country, long asof)
{
	char out[ID_NORM_MAX], again[ID_NORM_MAX];
	struct vaern_msg msg;
	enum vaern_err err;

	err = id_normalise(type, in, country, asof, out, sizeof(out), &msg);
	if (err != VAERN_OK) {
		if (err != VAERN_E_INVALID || out[0] != '\0' ||
		    msg.text[0] == '\0')
			abort();
		return;
	}
	if (out[0] == '\0' || strlen(out) >= ID_NORM_MAX || msg.text[0] != '\0')
		abort();
	err = id_normalise(type, out, country, asof, again, sizeof(again),
	                   &msg);
	if (err != VAERN_OK || strcmp(out, again) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *countries[] = {NULL, "DK", "SE", "se", "NO"};
	/* 2024-06-15, 1970-01-02, 9999-12-31, past it, and "today". */
	static const long asofs[] = {19889L, 1L, 2932896L, 2932897L, 0L};
	char in[FUZZ_INPUT_MAX + 1];
	char *text;
	size_t len, c, a;
	int t;

	len = size < FUZZ_INPUT_MAX ? size : FUZZ_INPUT_MAX;
	memcpy(in, data, len);
	in[len] = '\0';

	for (t = ID_NONE; t <= ID_OTHER; t++) {
		enum id_type type = (enum id_type)t;

		if (type == ID_PHONE) {
			for (c = 0; c < sizeof(countries) / sizeof(*countries);
			     c++)
				check_one(type, in, countries[c], 19889L);
		} else if (type == ID_PERSONNUMMER) {
			for (a = 0; a < sizeof(asofs) / sizeof(*asofs); a++)
				check_one(type, in, NULL, asofs[a]);
		} else {
			check_one(type, in, NULL, 19889L);
		}
	}
	(void)id_luhn_ok(in);

	/* The card scan reads free text of any length. */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)id_contains_card_number(text);
	free(text);
	return 0;
}
