/*
 * smtp.c -- the SMTP outbox: one-time codes (AOPT-ACCESS-1) as RFC 5322
 * e-mail messages, sent with libcurl's SMTP client. See smtp.h.
 */
#include "smtp.h"

#include <arpa/inet.h>
#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../calendar/calendar.h"
#include "../common/utf8.h"

#define SUBJECT_LINE_MAX 69 /* 78 less "Subject: ": a plain title fits */
#define WORD_PAYLOAD_MAX                                                       \
	56             /* encoded text per encoded-word: with                  \
	                  "=?UTF-8?Q?" and "?=", 9 + 68 <= 78 */
#define QP_LINE_MAX 76 /* RFC 2045 6.7 (5) */
#define DATE_MAX    40

struct smtp_outbox {
	char url[SMTP_URL_MAX + 1];           /* as configured */
	char host[SMTP_URL_MAX + 1];          /* its host, for messages */
	char from[SMTP_ADDR_MAX + 1];         /* the sender's address */
	char mail_from[SMTP_ADDR_MAX + 3];    /* "<from>" for MAIL FROM */
	char user[SMTP_USER_MAX + 1];         /* empty: no AUTH */
	char password[SMTP_PASSWORD_MAX + 1]; /* a secret: wiped on free */
	char ca_file[PATH_MAX];               /* empty: the system's CAs */
	char phone_spool[PATH_MAX];           /* empty: phone refused */
	int tls;                              /* 1: TLS or STARTTLS required */
	long timeout;                         /* seconds a send may take */
	long connect_timeout;                 /* seconds to connect */
	int curl_ready;                       /* curl_global_init succeeded */
};

/* A bounded output buffer: writes past n set overflow and are dropped. */
struct out {
	char *p;
	size_t n, len;
	int overflow;
};

static void
put(struct out *o, const char *s, size_t len)
{
	if (o->overflow || len >= o->n - o->len) {
		o->overflow = 1;
		return;
	}
	memcpy(o->p + o->len, s, len);
	o->len += len;
	o->p[o->len] = '\0';
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_hex(struct out *o, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char t[3] = {'=', hex[c >> 4], hex[c & 15]};

	put(o, t, 3);
}

/* ---- addresses ---------------------------------------------------------- */

int
smtp_address_ok(const char *addr)
{
	size_t len = strlen(addr), at = 0, ats = 0;

	if (len < 3 || len > SMTP_ADDR_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)addr[i];

		/* Printable ASCII only: no CR or LF (header and SMTP command
		 * injection), no space, nothing that ends or lists an
		 * address. */
		if (c <= 0x20 || c >= 0x7f || strchr("<>(),;:\"\\[]", c))
			return 0;
		if (c == '@') {
			ats++;
			at = i;
		}
	}
	return ats == 1 && at > 0 && at < len - 1;
}

/* ---- the Subject: header (RFC 2047) ------------------------------------- */

/* 1 if c may stand as itself in a Q-encoded word (RFC 2047 5 (3)). */
static int
q_literal(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '!' || c == '*' || c == '+' ||
	       c == '-' || c == '/';
}

/* The bytes of s[0..n) Q-encoded. */
static size_t
q_len(const unsigned char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += q_literal(s[i]) || s[i] == ' ' ? 1 : 3;
	return k;
}

/* Validates text as UTF-8 without control characters; ctl_ok lists the
 * ones allowed. 1 if valid. */
static int
text_valid(const char *text, size_t len, const char *ctl_ok)
{
	size_t i = 0;

	if (utf8_valid_prefix((const unsigned char *)text, len) != len)
		return 0;
	while (i < len) {
		uint32_t cp;
		size_t k = utf8_decode((const unsigned char *)text + i, len - i,
		                       &cp);

		if (k == 0)
			return 0;
		if (utf8_is_control(cp) &&
		    (cp > 0x7f || strchr(ctl_ok, (int)cp) == NULL || cp == 0))
			return 0;
		i += k;
	}
	return 1;
}

enum vaern_err
smtp_encode_subject(const char *title, char *outbuf, size_t n,
                    struct vaern_msg *msg)
{
	const unsigned char *t = (const unsigned char *)title;
	size_t len = strlen(title), i = 0, word = 0;
	struct out o = {outbuf, n, 0, 0};
	int plain = 1;

	if (n == 0)
		return vaern_fail(msg, VAERN_E_LIMIT, "no room for the title");
	outbuf[0] = '\0';
	if (len == 0 || len > SMTP_TITLE_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "an e-mail title has 1 to %d bytes",
		                  SMTP_TITLE_MAX);
	/* CR and LF would end the header and start another one. */
	if (!text_valid(title, len, ""))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "an e-mail title must be UTF-8 without line "
		                  "breaks or control characters (header "
		                  "injection refused)");
	for (size_t k = 0; k < len; k++) {
		if (t[k] < 0x20 || t[k] > 0x7e)
			plain = 0;
	}
	/* "=?" in a plain title would read as an encoded-word. */
	if (plain && len <= SUBJECT_LINE_MAX && strstr(title, "=?") == NULL) {
		put(&o, title, len);
		goto done;
	}
	while (i < len) {
		uint32_t cp;
		size_t k = utf8_decode(t + i, len - i, &cp);
		size_t enc = q_len(t + i, k);

		/* A character never straddles two words (RFC 2047 5). */
		if (word > 0 && word + enc > WORD_PAYLOAD_MAX) {
			puts_(&o, "?=\r\n ");
			word = 0;
		}
		if (word == 0)
			puts_(&o, "=?UTF-8?Q?");
		for (size_t j = i; j < i + k; j++) {
			if (t[j] == ' ')
				put(&o, "_", 1);
			else if (q_literal(t[j]))
				put(&o, (const char *)t + j, 1);
			else
				put_hex(&o, t[j]);
		}
		word += enc;
		i += k;
	}
	puts_(&o, "?=");
done:
	if (o.overflow) {
		outbuf[0] = '\0';
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "the encoded e-mail title is too long");
	}
	return VAERN_OK;
}

/* ---- the body (quoted-printable, RFC 2045 6.7) -------------------------- */

/* Appends one line (no line break in it) quoted-printable, with soft line
 * breaks so no output line passes QP_LINE_MAX, then CRLF. */
static void
qp_line(struct out *o, const unsigned char *s, size_t n)
{
	size_t col = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];
		int last = i + 1 == n;
		/* Trailing white space would be lost in transport: encoded. */
		int literal = (c >= 33 && c <= 126 && c != '=') ||
		              ((c == ' ' || c == '\t') && !last);
		size_t w = literal ? 1 : 3;

		/* Room for the token and a soft break '=' after it, unless it
		 * ends the line. */
		if (col + w > QP_LINE_MAX - (last ? 0 : 1)) {
			puts_(o, "=\r\n");
			col = 0;
		}
		if (literal)
			put(o, (const char *)s + i, 1);
		else
			put_hex(o, c);
		col += w;
	}
	puts_(o, "\r\n");
}

static void
qp_body(struct out *o, const char *body)
{
	const char *p = body;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		size_t k = n;

		if (k > 0 && p[k - 1] == '\r')
			k--;
		qp_line(o, (const unsigned char *)p, k);
		p += n + (nl != NULL);
	}
}

/* ---- headers ------------------------------------------------------------ */

/* "Mon, 02 Mar 2026 09:00:00 +0000" (RFC 5322 3.3), without the locale. */
static void
rfc5322_date(int64_t now, char *buf, size_t n)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed",
	                                "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr",
	                                   "May", "Jun", "Jul", "Aug",
	                                   "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)now;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		t = 0;
		(void)gmtime_r(&t, &tm);
	}
	(void)snprintf(buf, n, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	               days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	               tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

enum vaern_err
smtp_format_message(const char *from, const char *to, const char *title,
                    const char *body, int64_t now, char *outbuf, size_t n,
                    size_t *len, struct vaern_msg *msg)
{
	struct out o = {outbuf, n, 0, 0};
	unsigned char rnd[SMTP_MESSAGE_ID_BYTES];
	char subject[SMTP_TITLE_MAX * 5], date[DATE_MAX], hex[64];
	enum vaern_err err;
	size_t blen = strlen(body);

	*len = 0;
	if (n == 0)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "no room for the message");
	outbuf[0] = '\0';
	if (!smtp_address_ok(from))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the sender's address is not a plain e-mail "
		                  "address (header injection refused)");
	if (!smtp_address_ok(to))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the address on record cannot be used in an "
		                  "e-mail header (header injection refused)");
	if ((err = smtp_encode_subject(title, subject, sizeof(subject), msg)) !=
	    VAERN_OK)
		return err;
	if (blen == 0 || blen > SMTP_BODY_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "an e-mail body has 1 to %d bytes",
		                  SMTP_BODY_MAX);
	if (!text_valid(body, blen, "\t\r\n"))
		return vaern_fail(
		        msg, VAERN_E_INVALID,
		        "an e-mail body must be UTF-8 without control "
		        "characters other than line breaks and tabs");
	rfc5322_date(now, date, sizeof(date));
	randombytes_buf(rnd, sizeof(rnd));
	(void)sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	puts_(&o, "Date: ");
	puts_(&o, date);
	puts_(&o, "\r\nFrom: ");
	puts_(&o, from);
	puts_(&o, "\r\nTo: ");
	puts_(&o, to);
	puts_(&o, "\r\nSubject: ");
	puts_(&o, subject);
	/* Unique without a host name: random, at the sender's domain. */
	puts_(&o, "\r\nMessage-ID: <");
	puts_(&o, hex);
	puts_(&o, ".vaern");
	puts_(&o, strchr(from, '@'));
	puts_(&o, ">\r\nMIME-Version: 1.0\r\n"
	          "Content-Type: text/plain; charset=UTF-8\r\n"
	          "Content-Transfer-Encoding: quoted-printable\r\n"
	          "\r\n");
	qp_body(&o, body);
	if (o.overflow) {
		sodium_memzero(outbuf, n);
		return vaern_fail(msg, VAERN_E_LIMIT, "the e-mail is too long");
	}
	*len = o.len;
	return VAERN_OK;
}

/* ---- configuration ------------------------------------------------------ */

/* 1 if host (as in a URL: "127.0.0.1", "[::1]") is a loopback address. */
int
smtp_host_loopback(const char *host)
{
	char buf[64];
	struct in_addr a4;
	struct in6_addr a6;
	size_t len = strlen(host);

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (len < 3 || len >= sizeof(buf) || host[0] != '[' ||
	    host[len - 1] != ']')
		return 0;
	memcpy(buf, host + 1, len - 2);
	buf[len - 2] = '\0';
	if (inet_pton(AF_INET6, buf, &a6) != 1)
		return 0;
	if (IN6_IS_ADDR_LOOPBACK(&a6))
		return 1;
	return IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127;
}

/* Checks the URL; sets o->host and o->tls. */
static enum vaern_err
check_url(struct smtp_outbox *o, const char *url, int insecure,
          struct vaern_msg *msg)
{
	static const CURLUPart none[] = {CURLUPART_USER, CURLUPART_PASSWORD,
	                                 CURLUPART_OPTIONS, CURLUPART_QUERY,
	                                 CURLUPART_FRAGMENT};
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	enum vaern_err err = VAERN_OK;
	int smtps;

	if (u == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	if (strlen(url) > SMTP_URL_MAX ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "the mail server is a URL smtp://HOST[:PORT] "
		                 "or smtps://HOST[:PORT]");
		goto done;
	}
	if (strcmp(scheme, "smtp") != 0 && strcmp(scheme, "smtps") != 0) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "the mail server URL must start with smtp:// "
		                 "or smtps://");
		goto done;
	}
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		char *part = NULL;
		CURLUcode rc = curl_url_get(u, none[i], &part, 0);

		curl_free(part);
		if (rc == CURLUE_OK) {
			/* A password in a URL is on the command line. */
			err = vaern_fail(
			        msg, VAERN_E_INVALID,
			        "the mail server URL may hold no login, "
			        "query or fragment: give the user and a "
			        "password file instead");
			goto done;
		}
	}
	(void)snprintf(o->host, sizeof(o->host), "%s", host);
	smtps = strcmp(scheme, "smtps") == 0;
	o->tls = 1;
	if (insecure) {
		if (smtps) {
			err = vaern_fail(msg, VAERN_E_INVALID,
			                 "insecure (no TLS) applies to smtp:// "
			                 "only; smtps:// is always TLS");
			goto done;
		}
		/* As vaern serve serves plain HTTP (AURA-SEC-1): in the
		 * clear only to a relay on this machine. */
		if (!smtp_host_loopback(host)) {
			err = vaern_fail(
			        msg, VAERN_E_DENIED,
			        "refusing to send mail in the clear to "
			        "%.64s: without TLS only a mail server "
			        "on a loopback address (127.0.0.0/8, "
			        "[::1]) is allowed; use smtps:// or "
			        "smtp:// with STARTTLS",
			        host);
			goto done;
		}
		o->tls = 0;
	}
done:
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return err;
}

/* Reads the first line of path into o->password. */
static enum vaern_err
read_password(struct smtp_outbox *o, const char *path, struct vaern_msg *msg)
{
	char buf[SMTP_PASSWORD_MAX + 2];
	struct stat st;
	enum vaern_err err = VAERN_OK;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return vaern_fail(msg, VAERN_E_IO,
		                  "cannot open the SMTP password file %.200s",
		                  path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err = vaern_fail(msg, VAERN_E_IO,
		                 "the SMTP password file %.200s is not a file",
		                 path);
		goto done;
	}
	if ((st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
		err = vaern_fail(msg, VAERN_E_DENIED,
		                 "the SMTP password file %.200s is readable or "
		                 "writable by others (chmod o-rw)",
		                 path);
		goto done;
	}
	while (len < sizeof(buf)) {
		ssize_t k = read(fd, buf + len, sizeof(buf) - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			err = vaern_fail(msg, VAERN_E_IO,
			                 "cannot read the SMTP password file "
			                 "%.200s",
			                 path);
			goto done;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n') {
			len = i;
			break;
		}
	}
	if (len > 0 && buf[len - 1] == '\r')
		len--;
	if (len == 0 || len > SMTP_PASSWORD_MAX ||
	    memchr(buf, '\0', len) != NULL) {
		err = vaern_fail(
		        msg, VAERN_E_INVALID,
		        "the SMTP password file's first line must hold "
		        "the password (1 to %d bytes)",
		        SMTP_PASSWORD_MAX);
		goto done;
	}
	memcpy(o->password, buf, len);
	o->password[len] = '\0';
done:
	sodium_memzero(buf, sizeof(buf));
	(void)close(fd);
	return err;
}

static enum vaern_err
copy_path(char *dst, size_t n, const char *src, const char *what,
          struct vaern_msg *msg)
{
	if (snprintf(dst, n, "%s", src) >= (int)n)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the %s path is too "
		                  "long",
		                  what);
	return VAERN_OK;
}

enum vaern_err
smtp_outbox_new(const struct smtp_config *cfg, struct smtp_outbox **out,
                struct vaern_msg *msg)
{
	struct smtp_outbox *o;
	enum vaern_err err = VAERN_OK;

	*out = NULL;
	if (cfg->url == NULL || cfg->from == NULL)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "an SMTP outbox needs the server URL and the "
		                  "sender's address");
	if ((cfg->user == NULL) != (cfg->password_file == NULL))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "an SMTP login needs both the user and the "
		                  "password file");
	if (cfg->timeout > SMTP_TIMEOUT_MAX)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the SMTP timeout is at most %d seconds",
		                  SMTP_TIMEOUT_MAX);
	if (!smtp_address_ok(cfg->from))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the sender's address must be a plain e-mail "
		                  "address (name@domain)");
	if (cfg->user != NULL &&
	    (cfg->user[0] == '\0' || strlen(cfg->user) > SMTP_USER_MAX ||
	     !text_valid(cfg->user, strlen(cfg->user), "")))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the SMTP user has 1 to %d bytes of text",
		                  SMTP_USER_MAX);
	if (sodium_init() < 0)
		return vaern_fail(msg, VAERN_E_CRYPTO,
		                  "cannot initialise libsodium");
	if ((o = calloc(1, sizeof(*o))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err = vaern_fail(msg, VAERN_E_INTERNAL,
		                 "cannot initialise libcurl");
		goto done;
	}
	o->curl_ready = 1;
	if ((err = check_url(o, cfg->url, cfg->insecure, msg)) != VAERN_OK)
		goto done;
	(void)snprintf(o->url, sizeof(o->url), "%s", cfg->url);
	(void)snprintf(o->from, sizeof(o->from), "%s", cfg->from);
	(void)snprintf(o->mail_from, sizeof(o->mail_from), "<%s>", cfg->from);
	if (cfg->user != NULL) {
		(void)snprintf(o->user, sizeof(o->user), "%s", cfg->user);
		if ((err = read_password(o, cfg->password_file, msg)) !=
		    VAERN_OK)
			goto done;
	}
	if (cfg->ca_file != NULL &&
	    (err = copy_path(o->ca_file, sizeof(o->ca_file), cfg->ca_file,
	                     "CA file", msg)) != VAERN_OK)
		goto done;
	if (cfg->phone_spool != NULL &&
	    (err = copy_path(o->phone_spool, sizeof(o->phone_spool),
	                     cfg->phone_spool, "spool", msg)) != VAERN_OK)
		goto done;
	o->timeout =
	        cfg->timeout != 0 ? (long)cfg->timeout : SMTP_TIMEOUT_DEFAULT;
	o->connect_timeout = o->timeout < SMTP_CONNECT_TIMEOUT
	                             ? o->timeout
	                             : SMTP_CONNECT_TIMEOUT;
done:
	if (err != VAERN_OK) {
		smtp_outbox_free(o);
		return err;
	}
	*out = o;
	return VAERN_OK;
}

void
smtp_outbox_free(struct smtp_outbox *o)
{
	if (o == NULL)
		return;
	if (o->curl_ready)
		curl_global_cleanup();
	sodium_memzero(o, sizeof(*o));
	free(o);
}

int
smtp_outbox_tls(const struct smtp_outbox *o)
{
	return o->tls;
}

/* ---- sending ------------------------------------------------------------ */

/* The message handed to libcurl as the upload. */
struct upload {
	const char *data;
	size_t len, off;
};

static size_t
upload_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nitems, left = u->len - u->off;

	if (n > left)
		n = left;
	memcpy(buf, u->data + u->off, n);
	u->off += n;
	return n;
}

/* Describes a failed send without anything the server said in words: its
 * reply may quote the recipient. libcurl's name for the error is fixed
 * text; the reply code is a number. */
static enum vaern_err
send_failed(const struct smtp_outbox *o, CURLcode rc, long reply,
            struct vaern_msg *msg)
{
	char code[48] = "";

	if (reply > 0)
		(void)snprintf(code, sizeof(code), ", SMTP reply %ld", reply);
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return vaern_fail(msg, VAERN_E_UPSTREAM,
		                  "the mail server %.64s did not answer within "
		                  "%ld seconds; no code was sent",
		                  o->host, o->timeout);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return vaern_fail(msg, VAERN_E_UPSTREAM,
		                  "cannot reach the mail server %.64s (%s); no "
		                  "code was sent",
		                  o->host, curl_easy_strerror(rc));
	case CURLE_USE_SSL_FAILED:
		return vaern_fail(
		        msg, VAERN_E_UPSTREAM,
		        "the mail server %.64s offers no STARTTLS and "
		        "mail is not sent in the clear; no code was "
		        "sent",
		        o->host);
	case CURLE_LOGIN_DENIED:
		return vaern_fail(msg, VAERN_E_UPSTREAM,
		                  "the mail server %.64s refused the login%s; "
		                  "no code was sent",
		                  o->host, code);
	default:
		return vaern_fail(msg, VAERN_E_UPSTREAM,
		                  "the mail server %.64s did not take the "
		                  "message (%s%s); no code was sent",
		                  o->host, curl_easy_strerror(rc), code);
	}
}

static enum vaern_err
send_mail(const struct smtp_outbox *o, const char *to, const char *data,
          size_t len, struct vaern_msg *msg)
{
	char rcpt_addr[SMTP_ADDR_MAX + 3];
	struct curl_slist *rcpt = NULL;
	struct upload up = {data, len, 0};
	enum vaern_err err = VAERN_OK;
	CURL *h = curl_easy_init();
	CURLcode rc = CURLE_OK;
	long reply = 0;

	size_t tlen = strlen(to);

	/* smtp_format_message checked it: at most SMTP_ADDR_MAX bytes. */
	assert(tlen <= SMTP_ADDR_MAX);
	rcpt_addr[0] = '<';
	memcpy(rcpt_addr + 1, to, tlen);
	memcpy(rcpt_addr + 1 + tlen, ">", 2);
	if (h == NULL || (rcpt = curl_slist_append(NULL, rcpt_addr)) == NULL) {
		err = vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
		goto done;
	}
#define SET(opt, val)                                                          \
	do {                                                                   \
		if (rc == CURLE_OK)                                            \
			rc = curl_easy_setopt(h, opt, val);                    \
	} while (0)
	SET(CURLOPT_URL, o->url);
	SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	/* A request thread must not take signals (timeouts) from libcurl. */
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
	SET(CURLOPT_TIMEOUT, o->timeout);
	SET(CURLOPT_USE_SSL,
	    o->tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file[0] != '\0')
		SET(CURLOPT_CAINFO, o->ca_file);
	if (o->user[0] != '\0') {
		SET(CURLOPT_USERNAME, o->user);
		SET(CURLOPT_PASSWORD, o->password);
	}
	SET(CURLOPT_MAIL_FROM, o->mail_from);
	SET(CURLOPT_MAIL_RCPT, rcpt);
	SET(CURLOPT_READFUNCTION, upload_read);
	SET(CURLOPT_READDATA, &up);
	SET(CURLOPT_UPLOAD, 1L);
	SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
#undef SET
	if (rc != CURLE_OK) {
		err = vaern_fail(msg, VAERN_E_INTERNAL,
		                 "libcurl refused an SMTP option (%s)",
		                 curl_easy_strerror(rc));
		goto done;
	}
	if ((rc = curl_easy_perform(h)) != CURLE_OK) {
		(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
		err = send_failed(o, rc, reply, msg);
	}
done:
	/* libcurl keeps the password and the address in the handle. */
	curl_easy_cleanup(h);
	curl_slist_free_all(rcpt);
	sodium_memzero(rcpt_addr, sizeof(rcpt_addr));
	return err;
}

enum vaern_err
smtp_outbox_send(void *arg, const struct vault_message *m,
                 struct vaern_msg *msg)
{
	const struct smtp_outbox *o = arg;
	enum vaern_err err;
	char *buf = NULL;
	size_t len = 0;

	if (m->contact_type == NULL || strcmp(m->contact_type, "email") != 0) {
		if (m->contact_type != NULL &&
		    strcmp(m->contact_type, "phone") == 0 &&
		    o->phone_spool[0] != '\0')
			return vault_outbox_spool((void *)o->phone_spool, m,
			                          msg);
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "no SMS sender is configured (the outbox is "
		                  "SMTP, for e-mail only): send the code to "
		                  "an e-mail address or verify the identity by "
		                  "a staff attestation");
	}
	if (m->to == NULL || m->title == NULL || m->body == NULL)
		return vaern_fail(msg, VAERN_E_INTERNAL, "incomplete message");
	if ((buf = malloc(SMTP_MESSAGE_MAX)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	err = smtp_format_message(o->from, m->to, m->title, m->body,
	                          clock_now(), buf, SMTP_MESSAGE_MAX, &len,
	                          msg);
	if (err == VAERN_OK)
		err = send_mail(o, m->to, buf, len, msg);
	sodium_memzero(buf, SMTP_MESSAGE_MAX); /* the code */
	free(buf);
	return err;
}
