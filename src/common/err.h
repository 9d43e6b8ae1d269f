/*
 * err.h -- the one error type of vaern.
 *
 * Every fallible function returns an enum vaern_err. Where detail helps it
 * also fills a caller-provided struct vaern_msg with a human-readable
 * message. Messages name what is wrong and where (a file position, a field,
 * a category) but never carry a personal-data value: they may end up in
 * logs, HTTP responses and terminals (CONVENTIONS.md habit 4).
 */
#ifndef VAERN_ERR_H
#define VAERN_ERR_H

#include <stddef.h>

enum vaern_err {
	VAERN_OK = 0,
	VAERN_E_NOMEM,    /* an allocation failed */
	VAERN_E_INVALID,  /* the input is malformed or breaks a rule */
	VAERN_E_NOTFOUND, /* the thing asked for does not exist */
	VAERN_E_EXISTS,   /* a unique thing already exists */
	VAERN_E_DENIED,   /* the policy or the permissions refuse it */
	VAERN_E_IO,       /* a file or the operating system failed */
	VAERN_E_STORE,    /* the storage engine failed */
	VAERN_E_CRYPTO,   /* a key is wrong or a ciphertext was tampered with */
	VAERN_E_LIMIT,    /* a size or count limit was exceeded */
	VAERN_E_INTERNAL, /* an invariant broke: a bug */
	VAERN_E_UPSTREAM  /* a server vaern relies on (the mail server) is
	                     unreachable, too slow or refused */
};

/* Largest message, terminating NUL included. */
#define VAERN_MSG_MAX 512

/* A message out-parameter. Callers may pass NULL where they need no detail. */
struct vaern_msg {
	char text[VAERN_MSG_MAX]; /* NUL-terminated; empty when unset */
};

/* Returns a static, short English name for err ("invalid input", ...). */
const char *vaern_strerror(enum vaern_err err);

/*
 * Sets msg (if not NULL) from a printf-style format and returns err, so a
 * failure reads:  return vaern_fail(msg, VAERN_E_INVALID, "...", ...);
 * The message is truncated to fit. Never pass personal data as an argument.
 */
enum vaern_err vaern_fail(struct vaern_msg *msg, enum vaern_err err,
                          const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
