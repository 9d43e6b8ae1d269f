/*
 * fuzz_smtp.c -- libFuzzer harness for the SMTP outbox's message encoder
 * (src/outbox/smtp.h), where values from the vault become mail headers.
 *
 * The input is split at its first two NUL bytes into a recipient, a title
 * and a body. Besides the sanitizers it checks the contract: a message is
 * 7-bit, every line ends in CRLF and holds at most 78 characters (RFC 5322
 * 2.1.1's SHOULD), except the To: line, which holds the recipient's
 * address whole (an address cannot be folded: up to 4 + SMTP_ADDR_MAX,
 * within the MUST of 998); the header block has exactly the eight headers
 * (no injected one) and the recipient is fit for a header; a failure
 * leaves the buffer empty.
 *
 * Issue 12: this harness used to hold every line to 78 and aborted on a
 * valid 136-character address; fuzz/corpus/fuzz_smtp/long-address keeps
 * that input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "outbox/smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_BUF 65536

/* RFC 5322 2.1.1: a line SHOULD hold at most 78 characters, MUST at most
 * 998. */
#define LINE_SHOULD_MAX 78
#define LINE_MUST_MAX   998

static char out[SMTP_MESSAGE_MAX];
static char subject[4096];

static void
check_message(const char *msg, size_t len)
{
	size_t col = 0, headers = 0, i;
	int in_head = 1;

	if (len == 0 || strlen(msg) != len)
		abort();
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)msg[i];

		if (c >= 0x80 || c == 0 || c == '\n')
			abort(); /* 8-bit, or a bare LF */
		if (c != '\r') {
			col++;
			continue;
		}
		if (i + 1 >= len || msg[i + 1] != '\n' || col > LINE_MUST_MAX)
			abort();
		if (col > LINE_SHOULD_MAX &&
		    !(in_head && strncmp(msg + i - col, "To: ", 4) == 0 &&
		      col <= 4 + SMTP_ADDR_MAX))
			abort();
		if (in_head) {
			const char *line = msg + i - col;

			if (col == 0)
				in_head = 0;
			else if (line[0] != ' ')
				headers++; /* not a folded line */
		}
		col = 0;
		i++;
	}
	if (col != 0 || in_head || headers != 8)
		abort(); /* Date From To Subject Message-ID MIME CT CTE */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *to, *title, *body, *nul;
	struct vaern_msg msg;
	size_t len = 0;
	enum vaern_err err;

	if (size >= FUZZ_BUF)
		return 0;
	if ((buf = malloc(size + 3)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = buf[size + 1] = buf[size + 2] = '\0';
	to = buf;
	title = to + strlen(to) + 1;
	if (title > buf + size)
		title = buf + size + 1;
	body = title + strlen(title) + 1;
	if (body > buf + size + 1)
		body = buf + size + 2;
	err = smtp_encode_subject(title, subject, sizeof(subject), &msg);
	if (err != VAERN_OK && subject[0] != '\0')
		abort();
	if (err == VAERN_OK && (nul = strpbrk(subject, "\n")) != NULL &&
	    (nul == subject || nul[-1] != '\r' || nul[1] != ' '))
		abort(); /* a line break that is not a fold */
	err = smtp_format_message("noreply@example.dk", to, title, body,
	                          1772442000, out, sizeof(out), &len, &msg);
	if (err == VAERN_OK) {
		if (!smtp_address_ok(to))
			abort();
		check_message(out, len);
	} else if (len != 0 || out[0] != '\0' || msg.text[0] == '\0') {
		abort();
	}
	free(buf);
	return 0;
}
