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

#include "../audit/audit_checkpoints.h"
#include "../calendar/calendar.h"
#include "cli.h"

#define PUB_FILE    "checkpoint.pub"
#define CKPT_PREFIX "ckpt-"
#define CKPT_SUFFIX ".json"
#define SEED_BYTES  crypto_sign_SEEDBYTES

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

/* The key pair of the seed in key_file, which is made if missing. */
static enum vaern_err
key_pair(const char *key_file, unsigned char pk[AUDIT_CHECKPOINT_PK_BYTES],
         unsigned char sk[AUDIT_CHECKPOINT_SK_BYTES], struct vaern_msg *msg)
{
	unsigned char seed[SEED_BYTES];
	char hex[2 * SEED_BYTES + 8];
	enum vaern_err err = VAERN_OK;

	if (!audit_file_read(key_file, hex, sizeof(hex))) {
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
	} else if (!audit_hex_exact(hex, seed, sizeof(seed))) {
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
	if (!audit_path_join(pub, dir, PUB_FILE)) {
		rc = cli_report("audit checkpoint", VAERN_E_LIMIT, NULL);
		goto done;
	}
	if (audit_file_read(pub, have, sizeof(have))) {
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
	if (!audit_path_join(file, dir, name) || !write_new(file, text, 0644)) {
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
