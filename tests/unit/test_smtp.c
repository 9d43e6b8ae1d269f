/*
 * test_smtp.c -- table-driven tests of the SMTP outbox (src/outbox/smtp.h)
 * without a mail server: addresses fit for a header, the Subject: header
 * in RFC 2047 encoded-words, the RFC 5322 message (CRLF, 7-bit
 * quoted-printable, line lengths), header injection refused, the
 * configuration's refusals (TLS off loopback: AURA-SEC-1's rule for mail),
 * phone messages (no SMS sender), and a failed send whose message holds
 * neither the address nor the code (AOPT-ACCESS-1, CONVENTIONS.md habit
 * 4).
 */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */

#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/utf8.h"
#include "outbox/smtp.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define NOW        1772442000 /* 2026-03-02T09:00:00Z, a Monday */
#define FROM       "noreply@example.dk"
#define TO         "anna.hansen@example.dk"
#define CODE       "48151623"

/* ---- helpers ---- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the encoded-words of a Subject: value (=?UTF-8?Q?...?= words
 * separated by CRLF SP) into out; each word must be valid UTF-8 on its
 * own (no character split between words). Returns the number of words. */
static int
decode_subject(const char *v, char *out, size_t n)
{
	size_t len = 0;
	int words = 0;

	while (*v != '\0') {
		const char *end;
		char word[128];
		size_t wl = 0;

		assert_true(strncmp(v, "=?UTF-8?Q?", 10) == 0);
		v += 10;
		end = strstr(v, "?=");
		assert_non_null(end);
		/* RFC 2047 2: an encoded-word is at most 75 characters. */
		assert_true(end - v + 12 <= 75);
		while (v < end) {
			if (*v == '_') {
				word[wl++] = ' ';
				v++;
			} else if (*v == '=') {
				assert_true(hexval(v[1]) >= 0 &&
				            hexval(v[2]) >= 0);
				word[wl++] = (char)(hexval(v[1]) * 16 +
				                    hexval(v[2]));
				v += 3;
			} else {
				word[wl++] = *v++;
			}
		}
		assert_int_equal(utf8_valid_prefix((unsigned char *)word, wl),
		                 wl);
		assert_true(len + wl < n);
		memcpy(out + len, word, wl);
		len += wl;
		words++;
		v = end + 2;
		if (*v != '\0') {
			assert_true(strncmp(v, "\r\n ", 3) == 0);
			v += 3;
		}
	}
	out[len] = '\0';
	return words;
}

/* Decodes a quoted-printable body (CRLF lines) into out. */
static void
decode_qp(const char *b, char *out, size_t n)
{
	size_t len = 0;

	while (*b != '\0') {
		if (b[0] == '=' && b[1] == '\r' && b[2] == '\n') {
			b += 3; /* soft line break */
		} else if (b[0] == '=') {
			assert_true(hexval(b[1]) >= 0 && hexval(b[2]) >= 0);
			out[len++] = (char)(hexval(b[1]) * 16 + hexval(b[2]));
			b += 3;
		} else {
			out[len++] = *b++;
		}
		assert_true(len < n);
	}
	out[len] = '\0';
}

/* Every line ends in CRLF, is at most max bytes, and 7-bit. */
static void
assert_lines(const char *text, size_t len, size_t max)
{
	size_t col = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		assert_true(c < 0x80);
		if (c == '\r') {
			assert_true(i + 1 < len && text[i + 1] == '\n');
			assert_true(col <= max);
			col = 0;
			i++;
			continue;
		}
		assert_true(c != '\n'); /* no bare LF */
		col++;
	}
	assert_int_equal(col, 0); /* ends in CRLF */
}

/* ---- addresses ---- */

static void
test_address(void **state)
{
	static const struct {
		const char *addr;
		int ok;
	} cases[] = {
	        {"a@b.dk", 1},
	        {"anna.hansen+x@example.dk", 1},
	        {"a@b.dk\r\nBcc: eve@evil.example", 0},
	        {"a@b.dk\nBcc: eve@evil.example", 0},
	        {"a@b.dk\r", 0},
	        {"a b@c.dk", 0},
	        {"<a@b.dk>", 0},
	        {"a@b.dk>, <eve@evil.example", 0},
	        {"a@b.dk,eve@evil.example", 0},
	        {"Anna <a@b.dk>", 0},
	        {"a@b@c.dk", 0},
	        {"@b.dk", 0},
	        {"a@", 0},
	        {"ab", 0},
	        {"s\xc3\xb8ren@b.dk", 0}, /* raw UTF-8: no SMTPUTF8 */
	        {"a\t@b.dk", 0},
	        {"", 0},
	};

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++)
		assert_int_equal(smtp_address_ok(cases[i].addr), cases[i].ok);
}

/* ---- the Subject: header ---- */

static void
test_subject_plain_and_encoded(void **state)
{
	static const struct {
		const char *title, *want;
	} cases[] = {
	        {"Your verification code", "Your verification code"},
	        /* Danish: RFC 2047 Q, ':' and ' ' encoded. */
	        {"Din kode: \xc3\xa6\xc3\xb8\xc3\xa5",
	         "=?UTF-8?Q?Din_kode=3A_=C3=A6=C3=B8=C3=A5?="},
	        /* Swedish. */
	        {"Kod f\xc3\xb6r \xc3\x85sa",
	         "=?UTF-8?Q?Kod_f=C3=B6r_=C3=85sa?="},
	        /* "=?" in a plain title would read as an encoded-word. */
	        {"a =?b", "=?UTF-8?Q?a_=3D=3Fb?="},
	};
	char out[2048], back[512];

	(void)state;
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		assert_int_equal(smtp_encode_subject(cases[i].title, out,
		                                     sizeof(out), NULL),
		                 VAERN_OK);
		assert_string_equal(out, cases[i].want);
		if (out[0] == '=') {
			assert_int_equal(
			        decode_subject(out, back, sizeof(back)), 1);
			assert_string_equal(back, cases[i].title);
		}
	}
}

static void
test_subject_long_folds_without_splitting(void **state)
{
	/* A 1-byte character beside a 2-, 3- or 4-byte one, so a character
	 * would straddle any split that counts bytes, and a word that grew
	 * past its room by a long character would show. */
	static const char *const units[] = {"x\xc3\xa6", "x\xe2\x82\xac",
	                                    "x\xf0\x9f\x93\xa7"};
	char title[SMTP_TITLE_MAX + 1], out[2048], back[512];

	(void)state;
	for (size_t u = 0; u < N_ELEMS(units); u++) {
		size_t len = 0, ul = strlen(units[u]);

		while (len + ul <= SMTP_TITLE_MAX) {
			memcpy(title + len, units[u], ul);
			len += ul;
		}
		title[len] = '\0';
		assert_int_equal(
		        smtp_encode_subject(title, out, sizeof(out), NULL),
		        VAERN_OK);
		assert_true(decode_subject(out, back, sizeof(back)) > 1);
		assert_string_equal(back, title);
		/* "Subject: " and the first line, and every folded line,
		 * fit in 78 characters (RFC 5322 2.1.1). */
		assert_true(strcspn(out, "\r") + 9 <= 78);
		for (const char *p = strstr(out, "\r\n"); p != NULL;
		     p = strstr(p + 2, "\r\n"))
			assert_true(strcspn(p + 2, "\r") <= 78);
	}
	/* A long ASCII title is encoded too, so it folds. */
	memset(title, 'a', 100);
	title[100] = '\0';
	assert_int_equal(smtp_encode_subject(title, out, sizeof(out), NULL),
	                 VAERN_OK);
	assert_true(decode_subject(out, back, sizeof(back)) == 2);
	assert_string_equal(back, title);
}

static void
test_subject_injection_refused(void **state)
{
	static const char *const bad[] = {
	        "code\r\nBcc: eve@evil.example",
	        "code\nBcc: eve@evil.example",
	        "code\rBcc: eve@evil.example",
	        "tab\there",
	        "del\x7f",
	        "nel\xc2\x85", /* C1 NEL */
	        "bad \xff utf8",
	        "\xc3", /* truncated sequence */
	        "",
	};
	char title[SMTP_TITLE_MAX + 2], out[2048];
	struct vaern_msg msg;

	(void)state;
	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		memset(&msg, 0, sizeof(msg));
		memcpy(out, "junk", 5);
		assert_int_equal(
		        smtp_encode_subject(bad[i], out, sizeof(out), &msg),
		        VAERN_E_INVALID);
		assert_string_equal(out, "");
		assert_true(msg.text[0] != '\0');
		assert_null(strstr(msg.text, "evil"));
	}
	memset(&msg, 0, sizeof(msg));
	assert_int_equal(smtp_encode_subject(bad[1], out, sizeof(out), &msg),
	                 VAERN_E_INVALID);
	assert_non_null(strstr(msg.text, "header injection"));
	/* Over the limit. */
	memset(title, 'a', SMTP_TITLE_MAX + 1);
	title[SMTP_TITLE_MAX + 1] = '\0';
	assert_int_equal(smtp_encode_subject(title, out, sizeof(out), NULL),
	                 VAERN_E_INVALID);
	/* Too small a buffer: a limit, and nothing half-written. */
	assert_int_equal(
	        smtp_encode_subject("Din kode: \xc3\xa6", out, 12, NULL),
	        VAERN_E_LIMIT);
	assert_string_equal(out, "");
}

/* ---- the message ---- */

static const char body[] =
        "Your code to confirm your access request to S\xc3\xb8g\xc3\xa5rd "
        "& \xc3\x85ker\xc3\xb6 ApS is " CODE
        ". It is valid until 2026-03-02T09:30:00Z and can be used once.\n"
        ".a line that starts with a dot\r\n"
        "trailing space \n"
        "a = sign and a\ttab\n"
        "\n"
        "last line without a break";

static void
test_message_format(void **state)
{
	char out[SMTP_MESSAGE_MAX], decoded[SMTP_MESSAGE_MAX], want[1024];
	const char *head_end, *p;
	size_t len = 0, w = 0;

	(void)state;
	assert_int_equal(smtp_format_message(FROM, TO,
	                                     "Din kode: \xc3\xa6\xc3\xb8", body,
	                                     NOW, out, sizeof(out), &len, NULL),
	                 VAERN_OK);
	assert_int_equal(len, strlen(out));
	/* RFC 5322 2.1.1: at most 78 characters a line; the body at most
	 * 76 (RFC 2045 6.7); CRLF throughout; 7-bit, so no 8BITMIME. */
	assert_lines(out, len, 78);
	head_end = strstr(out, "\r\n\r\n");
	assert_non_null(head_end);
	assert_lines(head_end + 4, strlen(head_end + 4), 76);
	assert_true(strncmp(out,
	                    "Date: Mon, 02 Mar 2026 09:00:00 +0000\r\n"
	                    "From: " FROM "\r\nTo: " TO "\r\n"
	                    "Subject: =?UTF-8?Q?Din_kode=3A_=C3=A6=C3=B8"
	                    "?=\r\nMessage-ID: <",
	                    strlen("Date: Mon, 02 Mar 2026 09:00:00 +0000\r\n"
	                           "From: " FROM "\r\nTo: " TO "\r\n"
	                           "Subject: =?UTF-8?Q?Din_kode=3A_=C3=A6=C3="
	                           "B8?=\r\nMessage-ID: <")) == 0);
	p = strstr(out, "Message-ID: <");
	assert_non_null(p);
	p += strlen("Message-ID: <");
	for (int i = 0; i < 2 * SMTP_MESSAGE_ID_BYTES; i++)
		assert_true(hexval((char)(p[i] >= 'a' ? p[i] - 32 : p[i])) >=
		            0);
	assert_true(strncmp(p + 2 * SMTP_MESSAGE_ID_BYTES,
	                    ".vaern@example.dk>\r\n", 20) == 0);
	assert_non_null(strstr(out,
	                       "\r\nMIME-Version: 1.0\r\n"
	                       "Content-Type: text/plain; charset=UTF-8\r\n"
	                       "Content-Transfer-Encoding: "
	                       "quoted-printable\r\n\r\n"));
	/* The body decodes to the text with CRLF line ends. */
	decode_qp(head_end + 4, decoded, sizeof(decoded));
	for (p = body; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n')
			want[w++] = '\r';
		want[w++] = *p;
	}
	memcpy(want + w, "\r\n", 3);
	assert_string_equal(decoded, want);
	/* Trailing white space is encoded, a '=' always. */
	assert_non_null(strstr(head_end, "trailing space=20\r\n"));
	assert_non_null(strstr(head_end, "a =3D sign"));
	/* Two messages, two Message-IDs. */
	assert_int_equal(smtp_format_message(FROM, TO, "t", "b", NOW, decoded,
	                                     sizeof(decoded), &len, NULL),
	                 VAERN_OK);
	assert_true(strncmp(strstr(decoded, "Message-ID:"),
	                    strstr(out, "Message-ID:"), 46) != 0);
}

static void
test_message_refusals(void **state)
{
	static const struct {
		const char *from, *to, *title, *body;
		enum vaern_err want;
	} cases[] = {
	        {FROM, TO "\r\nBcc: eve@evil.example", "t", "code " CODE,
	         VAERN_E_INVALID},
	        {FROM, TO "\nBcc: eve@evil.example", "t", "code " CODE,
	         VAERN_E_INVALID},
	        {FROM "\r\nBcc: eve@evil.example", TO, "t", "code " CODE,
	         VAERN_E_INVALID},
	        {FROM, TO, "t\r\nBcc: eve@evil.example", "code " CODE,
	         VAERN_E_INVALID},
	        {FROM, TO, "t", "code " CODE " \x01", VAERN_E_INVALID},
	        {FROM, TO, "t", "code " CODE " \xff", VAERN_E_INVALID},
	        {FROM, TO, "t", "", VAERN_E_INVALID},
	};
	char out[SMTP_MESSAGE_MAX], *big;
	struct vaern_msg msg;
	size_t len = 1;

	(void)state;
	memset(out, 0, sizeof(out));
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		memset(&msg, 0, sizeof(msg));
		assert_int_equal(smtp_format_message(cases[i].from, cases[i].to,
		                                     cases[i].title,
		                                     cases[i].body, NOW, out,
		                                     sizeof(out), &len, &msg),
		                 cases[i].want);
		assert_int_equal(len, 0);
		assert_string_equal(out, "");
		/* Neither the address nor the code in the message. */
		assert_true(msg.text[0] != '\0');
		assert_null(strstr(msg.text, "example"));
		assert_null(strstr(msg.text, CODE));
	}
	/* A body past the limit. */
	big = malloc(SMTP_BODY_MAX + 2);
	assert_non_null(big);
	memset(big, 'a', SMTP_BODY_MAX + 1);
	big[SMTP_BODY_MAX + 1] = '\0';
	assert_int_equal(smtp_format_message(FROM, TO, "t", big, NOW, out,
	                                     sizeof(out), &len, NULL),
	                 VAERN_E_INVALID);
	free(big);
	/* No room: a limit, and the code is not left in the buffer. */
	assert_int_equal(smtp_format_message(FROM, TO, "t", "the code " CODE,
	                                     NOW, out, 400, &len, NULL),
	                 VAERN_OK);
	assert_int_equal(smtp_format_message(FROM, TO, "t",
	                                     "the code " CODE
	                                     " and a longer text after it, "
	                                     "long enough to overflow",
	                                     NOW, out, len + 10, &len, NULL),
	                 VAERN_E_LIMIT);
	assert_null(memmem(out, sizeof(out), CODE, strlen(CODE)));
}

/* ---- configuration ---- */

static char tmpdir[64];

static int
setup_tmp(void **state)
{
	(void)state;
	memcpy(tmpdir, "/tmp/vaern-smtp-XXXXXX", 23);
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_tmp(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[512];

	(void)state;
	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.' &&
			    (e->d_name[1] == '\0' || e->d_name[1] == '.'))
				continue;
			(void)snprintf(path, sizeof(path), "%s/%s", tmpdir,
			               e->d_name);
			if (unlink(path) != 0) {
				/* the spool directory */
				DIR *s = opendir(path);
				struct dirent *f;
				char inner[1024];

				while (s != NULL && (f = readdir(s)) != NULL) {
					(void)snprintf(inner, sizeof(inner),
					               "%s/%s", path,
					               f->d_name);
					(void)unlink(inner);
				}
				if (s != NULL)
					closedir(s);
				(void)rmdir(path);
			}
		}
		closedir(d);
	}
	return rmdir(tmpdir);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_config(void **state)
{
	char pw_ok[128], pw_open[128];
	struct {
		const char *url, *from, *user;
		int pw; /* 0: no file, 1: one of mode 0600, 2: 0644 */
		int insecure;
		unsigned timeout;
		enum vaern_err want;
		const char *mention; /* in the message */
		int tls;             /* if VAERN_OK */
	} cases[] = {
	        {"smtp://127.0.0.1:2525", FROM, NULL, 0, 1, 0, VAERN_OK, NULL,
	         0},
	        {"smtp://[::1]:2525", FROM, NULL, 0, 1, 0, VAERN_OK, NULL, 0},
	        {"smtp://127.8.9.10", FROM, NULL, 0, 1, 0, VAERN_OK, NULL, 0},
	        {"smtp://mail.example.dk:587", FROM, NULL, 0, 0, 0, VAERN_OK,
	         NULL, 1},
	        {"smtps://mail.example.dk", FROM, NULL, 0, 0, 0, VAERN_OK, NULL,
	         1},
	        {"smtp://127.0.0.1", FROM, NULL, 0, 0, 0, VAERN_OK, NULL, 1},
	        {"smtp://mail.example.dk", FROM, "vaern", 1, 0, 30, VAERN_OK,
	         NULL, 1},
	        /* In the clear only on loopback (AURA-SEC-1's rule). */
	        {"smtp://192.0.2.25:25", FROM, NULL, 0, 1, 0, VAERN_E_DENIED,
	         "loopback", 0},
	        {"smtp://mail.example.dk", FROM, NULL, 0, 1, 0, VAERN_E_DENIED,
	         "loopback", 0},
	        {"smtp://localhost", FROM, NULL, 0, 1, 0, VAERN_E_DENIED,
	         "loopback", 0},
	        {"smtp://[::ffff:10.0.0.1]", FROM, NULL, 0, 1, 0,
	         VAERN_E_DENIED, "loopback", 0},
	        {"smtps://127.0.0.1", FROM, NULL, 0, 1, 0, VAERN_E_INVALID,
	         "smtp://", 0},
	        {"http://127.0.0.1", FROM, NULL, 0, 0, 0, VAERN_E_INVALID,
	         "smtp://", 0},
	        {"127.0.0.1:25", FROM, NULL, 0, 0, 0, VAERN_E_INVALID, "smtp",
	         0},
	        {"smtp://vaern:secret@mail.example.dk", FROM, NULL, 0, 0, 0,
	         VAERN_E_INVALID, "password file", 0},
	        {"smtp://mail.example.dk/?x=1", FROM, NULL, 0, 0, 0,
	         VAERN_E_INVALID, "query", 0},
	        {"smtp://mail.example.dk", "noreply", NULL, 0, 0, 0,
	         VAERN_E_INVALID, "sender", 0},
	        {"smtp://mail.example.dk", FROM "\r\nBcc: eve@evil.example",
	         NULL, 0, 0, 0, VAERN_E_INVALID, "sender", 0},
	        {"smtp://mail.example.dk", FROM, "vaern", 0, 0, 0,
	         VAERN_E_INVALID, "password file", 0},
	        {"smtp://mail.example.dk", FROM, "vaern", 2, 0, 0,
	         VAERN_E_DENIED, "others", 0},
	        {"smtp://mail.example.dk", FROM, NULL, 0, 0, 301,
	         VAERN_E_INVALID, "300", 0},
	};
	struct smtp_config cfg;
	struct smtp_outbox *o;
	struct vaern_msg msg;

	(void)state;
	(void)snprintf(pw_ok, sizeof(pw_ok), "%s/pw", tmpdir);
	(void)snprintf(pw_open, sizeof(pw_open), "%s/pw-open", tmpdir);
	write_file(pw_ok, "s3cret-pw\n", 0600);
	write_file(pw_open, "s3cret-pw\n", 0644);
	for (size_t i = 0; i < N_ELEMS(cases); i++) {
		memset(&cfg, 0, sizeof(cfg));
		memset(&msg, 0, sizeof(msg));
		cfg.url = cases[i].url;
		cfg.from = cases[i].from;
		cfg.user = cases[i].user;
		cfg.password_file = cases[i].pw == 1   ? pw_ok
		                    : cases[i].pw == 2 ? pw_open
		                                       : NULL;
		cfg.insecure = cases[i].insecure;
		cfg.timeout = cases[i].timeout;
		o = NULL;
		if (smtp_outbox_new(&cfg, &o, &msg) != cases[i].want)
			fail_msg("case %zu (%s): %s", i, cases[i].url,
			         msg.text);
		if (cases[i].want == VAERN_OK) {
			assert_non_null(o);
			assert_int_equal(smtp_outbox_tls(o), cases[i].tls);
		} else {
			assert_null(o);
			assert_non_null(strstr(msg.text, cases[i].mention));
			assert_null(strstr(msg.text, "secret"));
		}
		smtp_outbox_free(o);
	}
}

/* ---- sending without a mail server ---- */

static struct vault_message
message(const char *contact_type)
{
	struct vault_message m = {"example",
	                          "req-1",
	                          contact_type,
	                          TO,
	                          "Your verification code",
	                          "Your code is " CODE "."};

	return m;
}

static void
test_phone_refused_or_spooled(void **state)
{
	struct smtp_config cfg;
	struct smtp_outbox *o = NULL;
	struct vault_message m = message("phone");
	struct vaern_msg msg = {{0}};
	char spool[128];
	struct dirent *e;
	DIR *d;
	int files = 0;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.url = "smtp://127.0.0.1:9";
	cfg.from = FROM;
	cfg.insecure = 1;
	m.to = "+45 20 12 34 56";
	assert_int_equal(smtp_outbox_new(&cfg, &o, &msg), VAERN_OK);
	assert_int_equal(smtp_outbox_send(o, &m, &msg), VAERN_E_INVALID);
	assert_non_null(strstr(msg.text, "no SMS sender"));
	assert_null(strstr(msg.text, "20 12"));
	assert_null(strstr(msg.text, CODE));
	smtp_outbox_free(o);
	/* With a spool, phone messages go there (for an SMS gateway). */
	(void)snprintf(spool, sizeof(spool), "%s/outbox", tmpdir);
	cfg.phone_spool = spool;
	assert_int_equal(smtp_outbox_new(&cfg, &o, &msg), VAERN_OK);
	assert_int_equal(smtp_outbox_send(o, &m, &msg), VAERN_OK);
	smtp_outbox_free(o);
	d = opendir(spool);
	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		files += e->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 1);
}

static void
test_unreachable_server_message_clean(void **state)
{
	struct sockaddr_in sa;
	socklen_t slen = sizeof(sa);
	struct smtp_config cfg;
	struct smtp_outbox *o = NULL;
	struct vault_message m = message("email");
	struct vaern_msg msg = {{0}};
	char url[64];
	int s = socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	/* A loopback port nothing listens on: bound, then closed. */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &slen), 0);
	close(s);
	(void)snprintf(url, sizeof(url), "smtp://127.0.0.1:%u",
	               (unsigned)ntohs(sa.sin_port));
	memset(&cfg, 0, sizeof(cfg));
	cfg.url = url;
	cfg.from = FROM;
	cfg.insecure = 1;
	cfg.timeout = 5;
	assert_int_equal(smtp_outbox_new(&cfg, &o, &msg), VAERN_OK);
	assert_int_equal(smtp_outbox_send(o, &m, &msg), VAERN_E_UPSTREAM);
	assert_non_null(strstr(msg.text, "cannot reach the mail server"));
	assert_null(strstr(msg.text, "anna"));
	assert_null(strstr(msg.text, CODE));
	/* A header injection is refused before any connection. */
	m.to = TO "\r\nBcc: eve@evil.example";
	assert_int_equal(smtp_outbox_send(o, &m, &msg), VAERN_E_INVALID);
	assert_non_null(strstr(msg.text, "header injection"));
	assert_null(strstr(msg.text, "evil"));
	smtp_outbox_free(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_address),
	        cmocka_unit_test(test_subject_plain_and_encoded),
	        cmocka_unit_test(test_subject_long_folds_without_splitting),
	        cmocka_unit_test(test_subject_injection_refused),
	        cmocka_unit_test(test_message_format),
	        cmocka_unit_test(test_message_refusals),
	        cmocka_unit_test(test_config),
	        cmocka_unit_test(test_phone_refused_or_spooled),
	        cmocka_unit_test(test_unreachable_server_message_clean),
	};

	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
