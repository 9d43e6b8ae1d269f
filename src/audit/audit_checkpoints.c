/*
 * audit_checkpoints.c -- reading a directory of signed checkpoints of the
 * audit trail (issue 12; moved from cmd_checkpoint.c, which writes them):
 * each ckpt-SEQ-AT.json checked against the directory's public key and
 * made an anchor for audit_verify. `vaern audit verify --checkpoints` and
 * the console's audit view (issue 20) read them.
 */
#include "audit_checkpoints.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PUB_FILE       "checkpoint.pub"
#define CKPT_PREFIX    "ckpt-"
#define CKPT_SUFFIX    ".json"
#define CKPT_FILE_MAX  4096   /* bytes of one checkpoint file */
#define CKPT_COUNT_MAX 100000 /* checkpoints one verify reads */

/* Reads a file of at most max - 1 bytes into buf, NUL-terminated, with
 * trailing white space cut. 0 on failure (errno set). */
int
audit_file_read(const char *path, char *buf, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, max - 1);
	close(fd);
	if (n < 0)
		return 0;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' ||
	                 buf[n - 1] == '\r' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	return 1;
}

/* Exactly len bytes of hex. */
int
audit_hex_exact(const char *text, unsigned char *out, size_t len)
{
	size_t got = 0;
	const char *end = NULL;

	return text != NULL && strlen(text) == 2 * len &&
	       sodium_hex2bin(out, len, text, 2 * len, NULL, &got, &end) == 0 &&
	       got == len && end == text + 2 * len;
}

/* dir/name into out (PATH_MAX); 0 if too long. */
int
audit_path_join(char out[PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return n > 0 && n < PATH_MAX;
}

/* Reads checkpoint file path into a (its source set to a copy of
 * "checkpoint NAME"), checking its signature with pk. */
static enum vaern_err
checkpoint_read(const char *path, const char *name,
                const unsigned char pk[AUDIT_CHECKPOINT_PK_BYTES],
                struct audit_anchor *a, struct vaern_msg *msg)
{
	unsigned char sig[AUDIT_CHECKPOINT_SIG_BYTES];
	char text[CKPT_FILE_MAX], source[PATH_MAX];
	const char *head = NULL, *sig_hex = NULL;
	json_int_t seq = -1, at = 0;
	json_error_t jerr;
	json_t *j;
	int ok;

	if (!audit_file_read(path, text, sizeof(text)))
		return vaern_fail(msg, VAERN_E_IO, "%s: %s", path,
		                  strerror(errno));
	j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	ok = j != NULL &&
	     json_unpack(j, "{s:I, s:s, s:I, s:s}", "seq", &seq, "head", &head,
	                 "at", &at, "signature", &sig_hex) == 0 &&
	     seq >= 0 && audit_hex_exact(head, a->hash, AUDIT_HASH_BYTES) &&
	     audit_hex_exact(sig_hex, sig, sizeof(sig));
	if (ok)
		ok = audit_checkpoint_check(pk, seq, a->hash, at, sig);
	json_decref(j);
	if (!ok)
		return vaern_fail(msg, VAERN_E_DENIED,
		                  "checkpoint %s: the signature does not "
		                  "verify (forged or changed)",
		                  name);
	(void)snprintf(source, sizeof(source), "checkpoint %s", name);
	if ((a->source = strdup(source)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	a->seq = seq;
	a->problem = AUDIT_CHECKPOINT;
	return VAERN_OK;
}

/* Whether name is a checkpoint file's. */
static int
is_checkpoint(const char *name)
{
	size_t len = strlen(name), sl = sizeof(CKPT_SUFFIX) - 1;

	return strncmp(name, CKPT_PREFIX, sizeof(CKPT_PREFIX) - 1) == 0 &&
	       len > sl && strcmp(name + len - sl, CKPT_SUFFIX) == 0;
}

void
audit_checkpoints_free(struct audit_anchor *a, size_t n)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((char *)a[i].source);
	free(a);
}

enum vaern_err
audit_checkpoints_read(const char *dir, const char *pk_hex,
                       struct audit_anchor **out, size_t *n,
                       struct vaern_msg *msg)
{
	unsigned char pk[AUDIT_CHECKPOINT_PK_BYTES];
	char pub[PATH_MAX], have[256], path[PATH_MAX];
	struct audit_anchor *list = NULL;
	enum vaern_err err = VAERN_OK;
	size_t count = 0, cap = 0;
	struct dirent *d;
	DIR *dh;

	*out = NULL;
	*n = 0;
	if (pk_hex == NULL) {
		if (!audit_path_join(pub, dir, PUB_FILE) ||
		    !audit_file_read(pub, have, sizeof(have)))
			return vaern_fail(msg, VAERN_E_IO,
			                  "%s/%s: %s (no checkpoint key)", dir,
			                  PUB_FILE, strerror(errno));
		pk_hex = have;
	}
	if (!audit_hex_exact(pk_hex, pk, sizeof(pk)))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the checkpoints' public key: 64 hex digits");
	if ((dh = opendir(dir)) == NULL)
		return vaern_fail(msg, VAERN_E_IO, "%s: %s", dir,
		                  strerror(errno));
	while (err == VAERN_OK && (d = readdir(dh)) != NULL) {
		if (!is_checkpoint(d->d_name))
			continue;
		if (count == CKPT_COUNT_MAX) {
			err = vaern_fail(msg, VAERN_E_LIMIT,
			                 "%s: more than %d checkpoints", dir,
			                 CKPT_COUNT_MAX);
			break;
		}
		if (count == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct audit_anchor *m =
			        realloc(list, ncap * sizeof(*m));

			if (m == NULL) {
				err = vaern_fail(msg, VAERN_E_NOMEM,
				                 "out of memory");
				break;
			}
			list = m;
			cap = ncap;
		}
		memset(&list[count], 0, sizeof(list[count]));
		if (!audit_path_join(path, dir, d->d_name)) {
			err = vaern_fail(msg, VAERN_E_LIMIT, "path too long");
			break;
		}
		err = checkpoint_read(path, d->d_name, pk, &list[count], msg);
		if (err == VAERN_OK)
			count++;
	}
	closedir(dh);
	if (err != VAERN_OK) {
		audit_checkpoints_free(list, count);
		return err;
	}
	*out = list;
	*n = count;
	return VAERN_OK;
}
