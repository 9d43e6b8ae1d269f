#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
vaern_strerror(enum vaern_err err)
{
	switch (err) {
	case VAERN_OK: return "ok";
	case VAERN_E_NOMEM: return "out of memory";
	case VAERN_E_INVALID: return "invalid input";
	case VAERN_E_NOTFOUND: return "not found";
	case VAERN_E_EXISTS: return "already exists";
	case VAERN_E_DENIED: return "denied";
	case VAERN_E_IO: return "i/o error";
	case VAERN_E_STORE: return "storage error";
	case VAERN_E_CRYPTO: return "cryptographic failure";
	case VAERN_E_LIMIT: return "limit exceeded";
	case VAERN_E_INTERNAL: return "internal error";
	case VAERN_E_UPSTREAM: return "upstream server failed";
	}
	return "unknown error";
}

enum vaern_err
vaern_fail(struct vaern_msg *msg, enum vaern_err err, const char *fmt, ...)
{
	char text[sizeof(msg->text)];
	va_list ap;

	if (msg == NULL)
		return err;
	/* Formatted apart, then copied: an argument may be msg->text itself
	 * ("fact 3: %s", msg->text), and vsnprintf into the buffer it reads
	 * is undefined behaviour (C11 7.21.6.12). */
	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	memcpy(msg->text, text, sizeof(text));
	return err;
}
