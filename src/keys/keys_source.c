/*
 * keys_source.c -- where the master key comes from: a file (mode 0600),
 * the environment, or a command that prints it (see keys.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keys.h"

#define KDF_CTX_CHECK "vaernchk" /* the key check value */

/* Parses KEYS_HEX hex digits and an optional newline (n bytes of hex). */
static int
key_parse(const char *hex, size_t n, unsigned char *key)
{
	size_t len = 0;

	if (n == KEYS_HEX + 1 && hex[KEYS_HEX] == '\n')
		n = KEYS_HEX;
	if (n != KEYS_HEX ||
	    sodium_hex2bin(key, KEYS_BYTES, hex, KEYS_HEX, NULL, &len, NULL) !=
	            0 ||
	    len != KEYS_BYTES)
		return 0;
	return 1;
}

enum vaern_err
keys_file_read(const char *path, unsigned char *key, struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	char hex[KEYS_HEX + 2];
	struct stat sb;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return vaern_fail(msg, VAERN_E_NOTFOUND,
			                  "%s: no master key", path);
		return vaern_fail(msg, VAERN_E_IO, "%s: %s", path,
		                  strerror(errno));
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		err = vaern_fail(msg, VAERN_E_IO, "%s: not a regular file",
		                 path);
		goto done;
	}
	/* GDPR-32: a key others can read protects nothing. */
	if ((sb.st_mode & 077) != 0) {
		err = vaern_fail(msg, VAERN_E_DENIED,
		                 "%s is accessible by group or others (mode "
		                 "%04o); run: chmod 600 %s",
		                 path, (unsigned)(sb.st_mode & 07777), path);
		goto done;
	}
	if (sb.st_uid != geteuid()) {
		err = vaern_fail(msg, VAERN_E_DENIED,
		                 "%s belongs to another user", path);
		goto done;
	}
	n = read(fd, hex, sizeof(hex));
	if (n < 0 || !key_parse(hex, (size_t)n, key))
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "%s: malformed key (expected %d hexadecimal "
		                 "digits)",
		                 path, KEYS_HEX);
done:
	sodium_memzero(hex, sizeof(hex));
	close(fd);
	return err;
}

enum vaern_err
keys_command_read(const char *command, unsigned char *key,
                  struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	char *out = NULL;
	size_t len = 0;
	ssize_t n;
	int fds[2] = {-1, -1}, status = 0;
	pid_t pid;

	if ((out = sodium_malloc(KEYS_COMMAND_MAX)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	if (pipe2(fds, O_CLOEXEC) != 0) {
		err = vaern_fail(msg, VAERN_E_IO, "pipe: %s", strerror(errno));
		goto done;
	}
	if ((pid = fork()) < 0) {
		err = vaern_fail(msg, VAERN_E_IO, "fork: %s", strerror(errno));
		goto done;
	}
	if (pid == 0) {
		/* The command's stderr stays ours: it may say why it failed.
		 */
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	fds[1] = -1;
	while (len < KEYS_COMMAND_MAX &&
	       (n = read(fds[0], out + len, KEYS_COMMAND_MAX - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	close(fds[0]);
	fds[0] = -1;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "the master key command failed (exit status "
		                 "%d)",
		                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	else if (!key_parse(out, len, key))
		err = vaern_fail(msg, VAERN_E_INVALID,
		                 "the master key command printed no key "
		                 "(expected %d hexadecimal digits and a "
		                 "newline)",
		                 KEYS_HEX);
done:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	sodium_free(out); /* wipes */
	return err;
}

int
keys_source_is_default(void)
{
	static const char *const env[] = {KEYS_ENV_COMMAND, KEYS_ENV_HEX,
	                                  KEYS_ENV_FILE};

	for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
		const char *v = getenv(env[i]);

		if (v != NULL && v[0] != '\0')
			return 0;
	}
	return 1;
}

enum vaern_err
keys_master_load(const char *dir, unsigned char *key, char *source,
                 struct vaern_msg *msg)
{
	char path[PATH_MAX];
	const char *v;
	int n;

	if ((v = getenv(KEYS_ENV_COMMAND)) != NULL && v[0] != '\0') {
		if (source != NULL)
			(void)snprintf(source, KEYS_SOURCE_MAX,
			               "the master key command");
		return keys_command_read(v, key, msg);
	}
	if ((v = getenv(KEYS_ENV_HEX)) != NULL && v[0] != '\0') {
		if (source != NULL)
			(void)snprintf(source, KEYS_SOURCE_MAX, "%s",
			               KEYS_ENV_HEX);
		if (!key_parse(v, strlen(v), key))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "%s must be %d hexadecimal digits",
			                  KEYS_ENV_HEX, KEYS_HEX);
		return VAERN_OK;
	}
	if ((v = getenv(KEYS_ENV_FILE)) != NULL && v[0] != '\0') {
		if (source != NULL)
			(void)snprintf(source, KEYS_SOURCE_MAX, "the key file");
		return keys_file_read(v, key, msg);
	}
	if (source != NULL)
		(void)snprintf(source, KEYS_SOURCE_MAX, "%s", KEYS_FILE);
	n = snprintf(path, sizeof(path), "%s/%s", dir, KEYS_FILE);
	if (n < 0 || (size_t)n >= sizeof(path))
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the data directory path is too long");
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return vaern_fail(msg, VAERN_E_NOTFOUND,
		                  "%s: no master key; is %s a data "
		                  "directory? (vaern init --data %s)",
		                  path, dir, dir);
	return keys_file_read(path, key, msg);
}

enum vaern_err
keys_file_create(const char *path, const unsigned char *given,
                 struct vaern_msg *msg)
{
	enum vaern_err err = VAERN_OK;
	unsigned char *key = NULL;
	char hex[KEYS_HEX + 2], tmp[PATH_MAX];
	int fd, n;

	/* Written whole to a file of its own, then linked under its name
	 * (link never replaces one): a kill -9 at any point leaves the key
	 * file whole or missing, never empty or half-written. */
	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return vaern_fail(msg, VAERN_E_INVALID, "%s: path too long",
		                  path);
	if (access(path, F_OK) == 0)
		return vaern_fail(msg, VAERN_E_EXISTS, "%s: %s", path,
		                  strerror(EEXIST));
	if ((key = sodium_malloc(KEYS_BYTES)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	(void)unlink(tmp); /* a run of the same pid that died */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	          0600);
	if (fd < 0) {
		err = vaern_fail(msg, VAERN_E_IO, "%s: %s", path,
		                 strerror(errno));
		sodium_free(key);
		return err;
	}
	if (given != NULL)
		memcpy(key, given, KEYS_BYTES);
	else
		randombytes_buf(key, KEYS_BYTES);
	sodium_bin2hex(hex, sizeof(hex), key, KEYS_BYTES);
	hex[KEYS_HEX] = '\n';
	if (write(fd, hex, KEYS_HEX + 1) != KEYS_HEX + 1 || fsync(fd) != 0)
		err = vaern_fail(msg, VAERN_E_IO, "%s: %s", path,
		                 strerror(errno));
	sodium_free(key);
	sodium_memzero(hex, sizeof(hex));
	if (close(fd) != 0 && err == VAERN_OK)
		err = vaern_fail(msg, VAERN_E_IO, "%s: %s", path,
		                 strerror(errno));
	if (err == VAERN_OK && link(tmp, path) != 0)
		err = vaern_fail(msg,
		                 errno == EEXIST ? VAERN_E_EXISTS : VAERN_E_IO,
		                 "%s: %s", path, strerror(errno));
	(void)unlink(tmp);
	if (err == VAERN_OK) {
		char dir[PATH_MAX];
		const char *slash = strrchr(path, '/');

		n = snprintf(dir, sizeof(dir), "%.*s",
		             slash != NULL ? (int)(slash - path) : 1,
		             slash != NULL ? path : ".");
		if (n > 0 && (size_t)n < sizeof(dir) &&
		    (fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			(void)fsync(fd);
			(void)close(fd);
		}
	}
	return err;
}

/*
 * The key check value: a keyed hash of a constant under a key derived from
 * the master key. A wrong master key would otherwise write data nobody
 * can read, under blind indexes that miss every existing identifier.
 */
void
keys_check_value(const unsigned char *master, char hex[KEYS_HEX + 1])
{
	static const char label[] = "vaern master key check v1";
	unsigned char k[KEYS_BYTES], h[KEYS_BYTES];

	crypto_kdf_derive_from_key(k, sizeof(k), 1, KDF_CTX_CHECK, master);
	crypto_generichash(h, sizeof(h), (const unsigned char *)label,
	                   sizeof(label) - 1, k, sizeof(k));
	sodium_bin2hex(hex, KEYS_HEX + 1, h, sizeof(h));
	sodium_memzero(k, sizeof(k));
}
