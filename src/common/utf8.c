#include "utf8.h"

#include <string.h>

size_t
utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c;
	size_t need;
	uint32_t v;

	if (len == 0)
		return 0;
	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (len <= need)
		return 0;
	for (size_t k = 1; k <= need; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (s[k] & 0x3f);
	}
	if ((need == 2 && v < 0x800) || (need == 3 && v < 0x10000) ||
	    v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return need + 1;
}

size_t
utf8_valid_prefix(const unsigned char *s, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len && (n = utf8_decode(s + i, len - i, &cp)) != 0)
		i += n;
	return i;
}

int
utf8_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

int
utf8_line_ok(const char *t, size_t max)
{
	size_t len = strlen(t), i = 0;

	if (len == 0 || len > max)
		return 0;
	while (i < len) {
		uint32_t cp;
		size_t n =
		        utf8_decode((const unsigned char *)t + i, len - i, &cp);

		if (n == 0 || utf8_is_control(cp))
			return 0;
		i += n;
	}
	return 1;
}
