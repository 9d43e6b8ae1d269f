/*
 * utf8.h -- strict UTF-8 decoding (RFC 3629), shared by every validator:
 * no overlong forms, no surrogates, nothing above U+10FFFF.
 */
#ifndef VAERN_UTF8_H
#define VAERN_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decodes the code point at the start of s[0..len) into *cp and returns
 * its length in bytes (1 to 4), or 0 if s does not start with a valid
 * sequence (or len is 0).
 */
size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
        __attribute__((nonnull));

/* The length of the longest valid UTF-8 prefix of s[0..len): len if all. */
size_t utf8_valid_prefix(const unsigned char *s, size_t len)
        __attribute__((nonnull));

/* Returns 1 if cp is a C0 or C1 control character or DEL. */
int utf8_is_control(uint32_t cp);

/* Returns 1 if t is 1..max bytes of valid UTF-8 with no control
 * character (one line of text: a reason, a page address); else 0. */
int utf8_line_ok(const char *t, size_t max) __attribute__((nonnull));

#endif
