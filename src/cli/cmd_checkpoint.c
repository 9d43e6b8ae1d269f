/*
 * cmd_checkpoint.c -- signed checkpoints of the audit trail (issue 12):
 * written by `vaern audit checkpoint`, checked by `vaern audit verify
 * --checkpoints DIR` (cli.h; docs/api.md "Audit checkpoints").
 *
 * The signing key: an Ed25519 key pair from a 32-byte seed kept, in hex,
 * in a file of its own (--key FILE, mode 0600, made on first use). It is
 * meant to live outside the data directory, readable only by whoever
 * runs the checkpoints (a cron job of another user, say): the server
 * neither needs nor reads it. The checkpoint directory holds
 * checkpoint.pub (the public key, in hex) and one ckpt-SEQ-AT.json per
 * checkpoint; make it writable by that user only, so the server cannot
 * change what it holds. A verifier pins the key with --public-key HEX;
 * without it, checkpoint.pub is trusted as the directory is.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../calendar/calendar.h"
#include "cli.h"

#define PUB_FILE       "checkpoint.pub"
#define CKPT_PREFIX    "ckpt-"
#define CKPT_SUFFIX    ".json"
#define CKPT_FILE_MAX  4096   /* bytes of one checkpoint file */
#define CKPT_COUNT_MAX 100000 /* checkpoints one verify reads */
#define SEED_BYTES     crypto_sign_SEEDBYTES

/* Reads a file of at most max - 1 bytes into buf, NUL-terminated, with
 * trailing white space cut. 0 on failure (errno set). */
static int
read_small(const char *path, char *buf, size_t max)
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

/* Writes text to a new file path (O_EXCL) with mode; 0 on failure. */
static int
write_new(const char *path, const char *text, mode_t mode)
{
	int fd =
	        open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	             mode);
	size_t len = strlen(text);
	int ok;

	if (fd < 0)
		return 0;
	ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = 0;
	if (!ok)
		(void)unlink(path);
	return ok;
}

/* Exactly len bytes of hex. */
static int
hex_exact(const char *text, unsigned char *out, size_t len)
{
	size_t got = 0;
	const char *end = NULL;

	return text != NULL && strlen(text) == 2 * len &&
	       sodium_hex2bin(out, len, text, 2 * len, NULL, &got, &end) == 0 &&
	       got == len && end == text + 2 * len;
}

/* The key pair of the seed in key_file, which is made if missing. */
static enum vaern_err
key_pair(const char *key_file, unsigned char pk[AUDIT_CHECKPOINT_PK_BYTES],
         unsigned char sk[AUDIT_CHECKPOINT_SK_BYTES], struct vaern_msg *msg)
{
	unsigned char seed[SEED_BYTES];
	char hex[2 * SEED_BYTES + 8];
	enum vaern_err err = VAERN_OK;

	if (!read_small(key_file, hex, sizeof(hex))) {
		if (errno != ENOENT)
			return vaern_fail(msg, VAERN_E_IO, "%s: %s", key_file,
			                  strerror(errno));
		randombytes_buf(seed, sizeof(seed));
		sodium_bin2hex(hex, sizeof(hex), seed, sizeof(seed));
		hex[2 * SEED_BYTES] = '\n';
		hex[2 * SEED_BYTES + 1] = '\0';
		if (!write_new(key_file, hex, 0600))
			err = vaern_fail(msg, VAERN_E_IO,
			                 "cannot create the checkpoint key %s: "
			                 "%s",
			                 key_file, strerror(errno));
	} else if (!hex_exact(hex, seed, sizeof(seed))) {
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "%s: not a checkpoint key (64 hex digits)",
		                 key_file);
	}
	if (err == VAERN_OK)
		crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(hex, sizeof(hex));
	return err;
}

/* dir/name into out (PATH_MAX); 0 if too long. */
static int
join(char out[PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return n > 0 && n < PATH_MAX;
}

int
cli_checkpoint_write(const char *key_file, const char *dir, int64_t seq,
                     const unsigned char head[AUDIT_HASH_BYTES])
{
	unsigned char pk[AUDIT_CHECKPOINT_PK_BYTES];
	unsigned char sk[AUDIT_CHECKPOINT_SK_BYTES];
	unsigned char sig[AUDIT_CHECKPOINT_SIG_BYTES];
	char pub[PATH_MAX], file[PATH_MAX], name[64];
	char pk_hex[2 * AUDIT_CHECKPOINT_PK_BYTES + 2], have[256];
	char head_hex[2 * AUDIT_HASH_BYTES + 1];
	char sig_hex[2 * AUDIT_CHECKPOINT_SIG_BYTES + 1];
	struct vaern_msg msg = {{0}};
	int64_t at = clock_now();
	enum vaern_err err;
	char *text = NULL;
	json_t *j = NULL;
	int rc;

	if ((err = key_pair(key_file, pk, sk, &msg)) != VAERN_OK)
		return cli_report("audit checkpoint", err, &msg);
	sodium_bin2hex(pk_hex, sizeof(pk_hex), pk, sizeof(pk));
	if (!join(pub, dir, PUB_FILE)) {
		rc = cli_report("audit checkpoint", VAERN_E_LIMIT, NULL);
		goto done;
	}
	if (read_small(pub, have, sizeof(have))) {
		if (strcmp(have, pk_hex) != 0) {
			(void)vaern_fail(&msg, VAERN_E_INVALID,
			                 "%s is the public key of another "
			                 "checkpoint key than %s",
			                 pub, key_file);
			rc = cli_report("audit checkpoint", VAERN_E_INVALID,
			                &msg);
			goto done;
		}
	} else {
		pk_hex[2 * AUDIT_CHECKPOINT_PK_BYTES] = '\n';
		pk_hex[2 * AUDIT_CHECKPOINT_PK_BYTES + 1] = '\0';
		if (errno != ENOENT || !write_new(pub, pk_hex, 0644)) {
			(void)vaern_fail(&msg, VAERN_E_IO, "%s: %s", pub,
			                 strerror(errno));
			rc = cli_report("audit checkpoint", VAERN_E_IO, &msg);
			goto done;
		}
		pk_hex[2 * AUDIT_CHECKPOINT_PK_BYTES] = '\0';
	}
	audit_checkpoint_sign(sk, seq, head, at, sig);
	sodium_bin2hex(head_hex, sizeof(head_hex), head, AUDIT_HASH_BYTES);
	sodium_bin2hex(sig_hex, sizeof(sig_hex), sig, sizeof(sig));
	(void)snprintf(name, sizeof(name),
	               CKPT_PREFIX "%020" PRId64 "-%" PRId64 CKPT_SUFFIX, seq,
	               at);
	j = json_pack("{s:i, s:I, s:s, s:I, s:s, s:s}", "version", 1, "seq",
	              (json_int_t)seq, "head", head_hex, "at", (json_int_t)at,
	              "public_key", pk_hex, "signature", sig_hex);
	if (j == NULL ||
	    (text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	            NULL) {
		rc = cli_report("audit checkpoint", VAERN_E_NOMEM, NULL);
		goto done;
	}
	if (!join(file, dir, name) || !write_new(file, text, 0644)) {
		(void)vaern_fail(&msg, VAERN_E_IO, "cannot write %s/%s: %s",
		                 dir, name, strerror(errno));
		rc = cli_report("audit checkpoint", VAERN_E_IO, &msg);
		goto done;
	}
	json_object_set_new(j, "file", json_string(file));
	rc = cli_print_json(j);
	j = NULL;
done:
	sodium_memzero(sk, sizeof(sk));
	free(text);
	json_decref(j);
	return rc;
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

	if (!read_small(path, text, sizeof(text)))
		return vaern_fail(msg, VAERN_E_IO, "%s: %s", path,
		                  strerror(errno));
	j = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	ok = j != NULL &&
	     json_unpack(j, "{s:I, s:s, s:I, s:s}", "seq", &seq, "head", &head,
	                 "at", &at, "signature", &sig_hex) == 0 &&
	     seq >= 0 && hex_exact(head, a->hash, AUDIT_HASH_BYTES) &&
	     hex_exact(sig_hex, sig, sizeof(sig));
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
cli_checkpoints_free(struct audit_anchor *a, size_t n)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((char *)a[i].source);
	free(a);
}

enum vaern_err
cli_checkpoints_read(const char *dir, const char *pk_hex,
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
		if (!join(pub, dir, PUB_FILE) ||
		    !read_small(pub, have, sizeof(have)))
			return vaern_fail(msg, VAERN_E_IO,
			                  "%s/%s: %s (no checkpoint key)", dir,
			                  PUB_FILE, strerror(errno));
		pk_hex = have;
	}
	if (!hex_exact(pk_hex, pk, sizeof(pk)))
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
		if (!join(path, dir, d->d_name)) {
			err = vaern_fail(msg, VAERN_E_LIMIT, "path too long");
			break;
		}
		err = checkpoint_read(path, d->d_name, pk, &list[count], msg);
		if (err == VAERN_OK)
			count++;
	}
	closedir(dh);
	if (err != VAERN_OK) {
		cli_checkpoints_free(list, count);
		return err;
	}
	*out = list;
	*n = count;
	return VAERN_OK;
}
