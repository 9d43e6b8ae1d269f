/*
 * audit.c -- the hash chain, the group-commit writer, verify and read
 * (GDPR-32: logging of access; see audit.h for the format).
 *
 * The writer: callers check their entry in their own thread, put a node
 * on their own stack into a FIFO queue and sleep. One thread takes
 * everything queued (up to max_batch entries), and in one transaction
 * reads the chain head, hashes and inserts the entries in queue order,
 * and commits; then it wakes every caller of that batch. So N concurrent
 * callers pay one fsync, not N, and the chain order is the commit order.
 * An asynchronous caller queues a node on the heap holding copies of its
 * entries and goes on; the writer calls its callback after the commit
 * and frees the node (the HTTP API holds its response back meanwhile,
 * without a thread waiting).
 */
#include "audit.h"

#include "../store/db.h"
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../calendar/calendar.h"
#include "../common/ckpt.h"
#include "../common/utf8.h"
#include "../store/store_audit.h"
#include "audit_internal.h"

/* An absent field in the encoding: no length can be this large. */
#define ENC_NULL 0xFFFFFFFFu

/*
 * How long the writer may hold a batch open for the callers it just woke
 * to come back (see writer_main). A thread appending again comes back in
 * microseconds; an HTTP request whose answer was held comes back only
 * after its answer went out and the client's next request was handled,
 * about a millisecond under load. A commit costs about 170 us of CPU and
 * an entry 8 (vaern-bench-audit), so batches twice as large save the
 * server a tenth of its CPU per request: 400 us doubled them at 64
 * connections (scripts/bench-api), and p99 went down with the CPU.
 */
#define LINGER_NS 400000L

/* A caller's request: on the caller's stack while it waits, or on the
 * heap for an asynchronous append. */
struct pending {
	const struct audit_entry *entries; /* the caller's, n of them; for
	                                      an asynchronous append, copies
	                                      in the same allocation */
	size_t n;                          /* >= 1 */
	int64_t at;                        /* clock_now() at the call */
	int64_t first_seq;                 /* out: seq of entries[0] */
	enum vaern_err err;                /* out: the commit's result */
	struct vaern_msg msg;              /* out: detail if err */
	audit_done_fn done_fn;             /* NULL: the caller sleeps on
	                                      done; else called by the
	                                      writer, which then frees the
	                                      node */
	void *done_arg;                    /* done_fn's argument */
	sem_t done;                        /* posted when the out members
	                                      are final; the node vanishes
	                                      as soon as it is */
	struct pending *next;              /* queue link */
};

struct audit_writer {
	pthread_mutex_t lock; /* guards everything below but st */
	pthread_cond_t work;  /* the thread waits: queue or stopping */
	struct pending *head; /* FIFO of waiting callers */
	struct pending *tail;
	size_t queued;     /* entries in the queue */
	uint64_t arrivals; /* nodes ever queued */
	uint64_t expect;   /* arrivals the next batch may wait for:
	                      those so far plus the callers the last
	                      commit woke */
	enum {
		WRITER_BUSY,  /* committing: it looks at the queue next */
		WRITER_GROUP, /* lingering: wake it when arrivals reach
		                 expect or the batch is full */
		WRITER_IDLE   /* wake it on any arrival */
	} state;              /* what an enqueuer must do to wake it */
	int stopping;         /* set by stop: drain, then exit */
	size_t max_batch;     /* entries one transaction takes */
	uint64_t entries;     /* committed since start */
	uint64_t batches;     /* transactions committed since start */
	uint64_t failures;    /* appends whose transaction failed */
	pthread_t thread;     /* the one writer */
	struct audit_settler *settler; /* settles for the writer
	                                  (audit_settle.c); NULL without a
	                                  data store */
	struct ckpt *ckpt;             /* copies the trail's log into its
	                                  database (src/common/ckpt.h), or
	                                  NULL: SQLite does, in the commits */
	struct audit_store *copier;    /* ckpt's connection to the trail */
	struct audit_chain chain;      /* used by the thread only, once
	                                  started; its data store connection
	                                  is the settler's */
};

/* ---- checks -------------------------------------------------------------- */

/* An id field: printable ASCII without spaces, so a free-text value
 * (a name, an address) does not fit by accident. */
enum token_rule {
	TOKEN_OPTIONAL, /* NULL or 1..max bytes */
	TOKEN_REQUIRED, /* 1..max bytes */
	TOKEN_LIST      /* NULL or 0..max bytes: an empty list is a list */
};

static enum vaern_err
check_token(const char *field, const char *s, size_t max, enum token_rule rule,
            struct vaern_msg *msg)
{
	size_t len;

	if (s == NULL)
		return rule == TOKEN_REQUIRED
		               ? vaern_fail(msg, VAERN_E_INVALID,
		                            "audit entry: %s is required",
		                            field)
		               : VAERN_OK;
	len = strnlen(s, max + 1);
	if (len == 0 && rule != TOKEN_LIST)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "audit entry: %s is empty (use NULL)", field);
	if (len > max)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "audit entry: %s is longer than %zu bytes",
		                  field, max);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x21 || c > 0x7e)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "audit entry: %s has a character "
			                  "other than printable ASCII at byte "
			                  "%zu",
			                  field, i);
	}
	return VAERN_OK;
}

/* A text field: UTF-8 without control characters. */
static enum vaern_err
check_text(const char *field, const char *s, struct vaern_msg *msg)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, i = 0;

	if (s == NULL)
		return VAERN_OK;
	len = strnlen(s, AUDIT_TEXT_MAX + 1);
	if (len > AUDIT_TEXT_MAX)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "audit entry: %s is longer than %d bytes",
		                  field, AUDIT_TEXT_MAX);
	while (i < len) {
		uint32_t cp;
		size_t k = utf8_decode(p + i, len - i, &cp);

		if (k == 0)
			return vaern_fail(
			        msg, VAERN_E_INVALID,
			        "audit entry: %s is not UTF-8 at byte "
			        "%zu",
			        field, i);
		if (utf8_is_control(cp))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "audit entry: %s has a control "
			                  "character at byte %zu",
			                  field, i);
		i += k;
	}
	return VAERN_OK;
}

enum vaern_err
audit_entry_check(const struct audit_entry *e, struct vaern_msg *msg)
{
	enum vaern_err err;

	if ((err = check_token("controller", e->controller, AUDIT_ID_MAX,
	                       TOKEN_OPTIONAL, msg)) ||
	    (err = check_token("actor", e->actor, AUDIT_ID_MAX, TOKEN_OPTIONAL,
	                       msg)) ||
	    (err = check_token("role", e->role, AUDIT_ID_MAX, TOKEN_OPTIONAL,
	                       msg)) ||
	    (err = check_token("purpose", e->purpose, AUDIT_ID_MAX,
	                       TOKEN_OPTIONAL, msg)) ||
	    (err = check_token("action", e->action, AUDIT_ID_MAX,
	                       TOKEN_REQUIRED, msg)) ||
	    (err = check_token("categories", e->categories,
	                       AUDIT_CATEGORIES_MAX, TOKEN_LIST, msg)) ||
	    (err = check_text("rule", e->rule, msg)) ||
	    (err = check_text("reason", e->reason, msg)) ||
	    (err = check_token("policy", e->policy, AUDIT_ID_MAX,
	                       TOKEN_OPTIONAL, msg)))
		return err;
	if (e->allowed != 0 && e->allowed != 1)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "audit entry: the decision must be 0 (deny) "
		                  "or 1 (allow)");
	return VAERN_OK;
}

/* ---- the hash ------------------------------------------------------------ */

static void
put_u32(crypto_generichash_state *h, uint32_t v)
{
	unsigned char b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	crypto_generichash_update(h, b, sizeof(b));
}

static void
put_i64(crypto_generichash_state *h, int64_t v)
{
	uint64_t u = (uint64_t)v;
	unsigned char b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	crypto_generichash_update(h, b, sizeof(b));
}

static void
put_bytes(crypto_generichash_state *h, const void *p, size_t len)
{
	if (p == NULL) {
		put_u32(h, ENC_NULL);
		return;
	}
	/* Stored fields are checked to be far below 4 GiB; a longer one
	 * (tampering) gets a length that cannot match the original. */
	put_u32(h, len >= ENC_NULL ? ENC_NULL - 1 : (uint32_t)len);
	crypto_generichash_update(h, p, len);
}

static void
put_text(crypto_generichash_state *h, const char *s)
{
	put_bytes(h, s, s == NULL ? 0 : strlen(s));
}

void
audit_hash_row(const unsigned char *key,
               const unsigned char prev[AUDIT_HASH_BYTES],
               const struct audit_row *r, unsigned char out[AUDIT_HASH_BYTES])
{
	crypto_generichash_state h;
	/* The row's own version says what its MAC covers; 0: a row being
	 * made, of the newest version (keyed) or, without a key, of 1. */
	int64_t v = r->version != 0 ? r->version
	            : key != NULL   ? AUDIT_ENCODING_VERSION
	                            : AUDIT_ENCODING_V1;
	const unsigned char version = (unsigned char)v;

	if (v == AUDIT_ENCODING_V1)
		key = NULL; /* version 1 is unkeyed */
	crypto_generichash_init(&h, key, key != NULL ? AUDIT_KEY_BYTES : 0,
	                        AUDIT_HASH_BYTES);
	crypto_generichash_update(&h, prev, AUDIT_HASH_BYTES);
	crypto_generichash_update(&h, &version, 1);
	put_i64(&h, r->seq);
	put_i64(&h, r->at);
	put_text(&h, r->controller);
	put_text(&h, r->actor);
	put_text(&h, r->role);
	put_text(&h, r->purpose);
	put_text(&h, r->action);
	put_bytes(&h, r->subject, AUDIT_SUBJECT_BYTES);
	put_text(&h, r->categories);
	put_i64(&h, r->decision);
	put_text(&h, r->rule);
	put_text(&h, r->reason);
	/* The policy version (issue 12): always from version 2 on; in
	 * version 1 only when present, so an entry written before the field
	 * existed keeps its hash. */
	if (v >= 2 || r->policy != NULL)
		put_text(&h, r->policy);
	/* A field added later goes here, hashed only when v is at least
	 * the version that added it: older rows keep their MACs. */
	crypto_generichash_final(&h, out, AUDIT_HASH_BYTES);
}

static void
row_from_entry(struct audit_row *r, int64_t seq, int64_t at,
               const struct audit_entry *e)
{
	memset(r, 0, sizeof(*r));
	r->seq = seq;
	r->at = at;
	r->controller = e->controller;
	r->actor = e->actor;
	r->role = e->role;
	r->purpose = e->purpose;
	r->action = e->action;
	r->subject = e->subject;
	r->categories = e->categories;
	r->decision = e->allowed;
	r->rule = e->rule;
	r->reason = e->reason;
	r->policy = e->policy;
	r->outbox_id = e->outbox_id;
}

void
audit_hash(const unsigned char *key, const unsigned char prev[AUDIT_HASH_BYTES],
           int64_t seq, int64_t at, const struct audit_entry *e,
           unsigned char out[AUDIT_HASH_BYTES])
{
	struct audit_row r;

	row_from_entry(&r, seq, at, e);
	audit_hash_row(key, prev, &r, out);
}

/* The head's MAC: a domain of its own, so no entry's MAC is a head's. */
void
audit_head_tag(const unsigned char key[AUDIT_KEY_BYTES],
               const struct audit_head_row *h,
               unsigned char tag[AUDIT_HASH_BYTES])
{
	static const char domain[] = "vaern-audit-head-v1";
	crypto_generichash_state g;

	crypto_generichash_init(&g, key, AUDIT_KEY_BYTES, AUDIT_HASH_BYTES);
	crypto_generichash_update(&g, (const unsigned char *)domain,
	                          sizeof(domain) - 1);
	put_i64(&g, h->seq);
	crypto_generichash_update(&g, h->mac, AUDIT_HASH_BYTES);
	put_i64(&g, h->keyed_from);
	crypto_generichash_final(&g, tag, AUDIT_HASH_BYTES);
}

/* ---- writing ------------------------------------------------------------- */

/*
 * Inside an open transaction: appends entries[0..n), each at its own
 * time or at, after the chain's head.
 */
static enum vaern_err
insert_entries(struct audit_chain *c, const struct audit_entry *entries,
               size_t n, int64_t at, int64_t *first_seq, struct vaern_msg *msg)
{
	enum vaern_err err;

	for (size_t i = 0; i < n; i++) {
		const struct audit_entry *e = &entries[i];
		struct audit_row r;
		int64_t seq;

		row_from_entry(&r, 0, e->at != 0 ? e->at : at, e);
		if ((err = audit_chain_add(c, &r, &seq, msg)) != VAERN_OK)
			return err;
		if (i == 0 && first_seq != NULL)
			*first_seq = seq;
	}
	return VAERN_OK;
}

/*
 * Commits the nodes of batch (linked by next, ending at NULL) in the
 * transaction the writer began (err: how the begin went). The head was
 * read under the write lock, so another writer (a CLI process, another
 * node) in between cannot fork the chain. On failure every node gets the
 * error: none of them was written.
 */
static void
commit_batch(struct audit_writer *w, struct pending *batch, enum vaern_err err,
             const struct vaern_msg *begun)
{
	struct vaern_msg msg = *begun;
	uint64_t n = 0, callers = 0;
	struct pending *p;

	if (err != VAERN_OK)
		goto done;
	for (p = batch; p != NULL && err == VAERN_OK; p = p->next) {
		err = insert_entries(&w->chain, p->entries, p->n, p->at,
		                     &p->first_seq, &msg);
		n += p->n;
	}
	if (err == VAERN_OK)
		err = audit_chain_commit(&w->chain, &msg);
	else
		audit_chain_rollback(&w->chain);
done:
	for (p = batch; p != NULL; p = p->next)
		callers++;
	pthread_mutex_lock(&w->lock);
	if (err == VAERN_OK) {
		w->entries += n;
		w->batches++;
	} else {
		w->failures += callers;
	}
	w->expect = w->arrivals + callers;
	pthread_mutex_unlock(&w->lock);
	/*
	 * One semaphore per sleeping caller: each wakes alone, with no lock
	 * to take (a shared condition variable woke every caller on every
	 * commit). sem_post orders the out members before the caller's
	 * sem_wait. An asynchronous caller is told by its callback: no
	 * thread to wake.
	 */
	while (batch != NULL) {
		struct pending *next = batch->next;

		if (batch->done_fn != NULL) {
			batch->done_fn(batch->done_arg, err,
			               err == VAERN_OK ? batch->first_seq : 0,
			               err == VAERN_OK ? NULL : &msg);
			free(batch); /* the node and its copies */
		} else {
			batch->err = err;
			if (err != VAERN_OK)
				batch->msg = msg;
			sem_post(&batch->done);
		}
		batch = next; /* batch itself may be gone now */
	}
	/* The data store learns the head, and loses the rows moved, on the
	 * settler's thread: this one never waits for its lock. The log's
	 * bulk is copied into the trail's database on ckpt's; this thread
	 * copies the rest, a few pages, and starts the log over. */
	if (err != VAERN_OK)
		return;
	audit_settler_committed(w->settler, &w->chain);
	if (ckpt_committed(w->ckpt, audit_store_log_frames(w->chain.st)))
		ckpt_finished(w->ckpt, audit_store_log_restart(w->chain.st,
		                                               CKPT_WAIT_MS));
}

/* t + ns, for pthread_cond_timedwait on CLOCK_MONOTONIC. */
static struct timespec
deadline_after(long ns)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += ns;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Whether a batch may start now (lock held). */
static int
batch_ready(const struct audit_writer *w, int lingered)
{
	if (w->head == NULL)
		return 0;
	return lingered || w->stopping || w->arrivals >= w->expect ||
	       w->queued >= w->max_batch;
}

/*
 * The writer. After a commit it holds the next batch open, at most
 * LINGER_NS, until as many callers have queued since the commit as it
 * woke (or the batch is full). Without that, T callers that append again
 * at once split into two halves that alternate, one committing while the
 * other queues: T/2 entries per fsync instead of T. Callers that do not
 * come back cost the others at most LINGER_NS. Enqueuers wake the writer
 * only when it can start (state), not on every arrival.
 */
static void *
writer_main(void *arg)
{
	struct audit_writer *w = arg;
	struct timespec until = {0, 0};
	int lingered = 1;  /* nothing to wait for before the first batch */
	int idle_told = 1; /* the settler knows the writer is idle */

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct pending *batch, *last;
		struct vaern_msg msg;
		enum vaern_err err;
		size_t taken;

		while (!batch_ready(w, lingered)) {
			if (w->head == NULL && w->stopping)
				break;
			if (lingered && w->head == NULL && !idle_told) {
				/* Idle: the data store catches up now. */
				idle_told = 1;
				audit_settler_idle(w->settler, &w->chain);
			}
			if (lingered) {
				w->state = WRITER_IDLE;
				pthread_cond_wait(&w->work, &w->lock);
			} else {
				w->state = WRITER_GROUP;
				if (pthread_cond_timedwait(&w->work, &w->lock,
				                           &until) != 0)
					lingered = 1; /* timed out */
			}
		}
		w->state = WRITER_BUSY;
		if (w->head == NULL)
			break; /* stopping, and drained */
		/*
		 * The chain's lock first, the batch after: callers that queue
		 * while another writer holds the lock (another node's, on
		 * PostgreSQL; a CLI process's) join this batch instead of
		 * waiting for the next one. Two nodes of one PostgreSQL wait
		 * for each other's commits about half the time: taking the
		 * batch first, each committed 5 to 6 entries at a time
		 * against one node's 7 to 9; now 6 to 7 (bench/README.md,
		 * issue 14).
		 */
		pthread_mutex_unlock(&w->lock);
		memset(&msg, 0, sizeof(msg));
		err = audit_chain_begin(&w->chain, &msg);
		pthread_mutex_lock(&w->lock);
		/* Take whole nodes, at least one, up to max_batch entries. */
		batch = last = w->head;
		taken = batch->n;
		while (last->next != NULL &&
		       taken + last->next->n <= w->max_batch) {
			last = last->next;
			taken += last->n;
		}
		w->head = last->next;
		if (w->head == NULL)
			w->tail = NULL;
		last->next = NULL;
		w->queued -= taken;
		pthread_mutex_unlock(&w->lock);
		commit_batch(w, batch, err, &msg);
		idle_told = 0;
		until = deadline_after(LINGER_NS);
		lingered = 0;
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

enum vaern_err
audit_create(const char *db_path, struct vaern_msg *msg)
{
	struct audit_store *st = NULL;
	enum vaern_err err;
	struct db *db = NULL;
	int fd;

	char conninfo[1024];
	int on_pg = db_store_conf(db_path, 0, conninfo, sizeof(conninfo));

	explicit_bzero(conninfo, sizeof(conninfo));
	/* On PostgreSQL the trail is the schema "audit" of the same
	 * database: there is no file to make. */
	fd = on_pg != 0 ? -1
	                : open(db_path,
	                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	                               O_CLOEXEC,
	                       0600);
	/* O_EXCL: never truncate an existing trail; 0600: ours alone. */
	if (on_pg == 0 && fd < 0 && errno != EEXIST)
		return vaern_fail(msg, VAERN_E_IO, "%s: %s", db_path,
		                  strerror(errno));
	if (fd >= 0) {
		close(fd);
		if (db_open_sqlite(db_path, SQLITE_OPEN_READWRITE, 5000, &db) !=
		            DB_OK ||
		    db_exec(db, "PRAGMA journal_mode=WAL", NULL) != DB_OK) {
			db_close(db);
			(void)unlink(db_path);
			return vaern_fail(
			        msg, VAERN_E_STORE,
			        "%s: cannot set up the audit database",
			        db_path);
		}
		db_close(db);
	}
	/* Opening the store creates the table. */
	if ((err = audit_store_open(db_path, 1, &st, msg)) != VAERN_OK)
		return err;
	audit_store_close(st);
	return VAERN_OK;
}

/* The copy of the trail's log into its database, on ckpt's thread. */
static enum vaern_err
trail_copy(void *arg)
{
	return audit_store_checkpoint(arg, NULL, NULL, NULL);
}

enum vaern_err
audit_writer_start(const struct audit_trail *t, size_t max_batch,
                   struct audit_writer **out, struct vaern_msg *msg)
{
	struct audit_writer *w;
	pthread_condattr_t attr;
	enum vaern_err err;
	int rc;

	*out = NULL;
	if (sodium_init() < 0)
		return vaern_fail(msg, VAERN_E_CRYPTO,
		                  "libsodium failed to initialise");
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	w->max_batch = max_batch == 0 ? AUDIT_BATCH_DEFAULT : max_batch;
	/* At start-up: what a crash left in the outbox goes first. */
	if ((err = audit_chain_open(&w->chain, t, msg)) != VAERN_OK) {
		free(w);
		return err;
	}
	if ((err = audit_chain_flush(&w->chain, NULL, msg)) != VAERN_OK) {
		audit_chain_close(&w->chain);
		free(w);
		return err;
	}
	/* The writer never waits for the data store's lock (the create
	 * writer holds it through its commit's fsyncs): the settler does. */
	if ((err = audit_settler_start(&w->chain, &w->settler, msg)) !=
	    VAERN_OK) {
		audit_chain_close(&w->chain);
		free(w);
		return err;
	}
	/* SQLite only (PostgreSQL checkpoints on its own: no thread, no
	 * connection). Without a connection or thread of its own for the
	 * copy, SQLite copies the log in the writer's commits, as before. */
	if (audit_store_checkpoint_apart(w->chain.st, 1) &&
	    (audit_store_open(t->path, 1, &w->copier, NULL) != VAERN_OK ||
	     ckpt_start(trail_copy, w->copier, "vaern-audit-ckp", &w->ckpt,
	                NULL) != VAERN_OK)) {
		audit_store_close(w->copier);
		w->copier = NULL;
		(void)audit_store_checkpoint_apart(w->chain.st, 0);
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* for linger */
	pthread_cond_init(&w->work, &attr);
	pthread_condattr_destroy(&attr);
	if ((rc = pthread_create(&w->thread, NULL, writer_main, w)) != 0) {
		ckpt_stop(w->ckpt);
		audit_store_close(w->copier);
		audit_settler_stop(w->settler);
		audit_chain_close(&w->chain);
		pthread_cond_destroy(&w->work);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return vaern_fail(msg, VAERN_E_IO,
		                  "cannot start the audit writer: %s",
		                  strerror(rc));
	}
	(void)pthread_setname_np(w->thread, "vaern-audit");
	*out = w;
	return VAERN_OK;
}

/*
 * Queues p (lock held by the caller) and wakes the writer if it waits
 * for this arrival. Returns VAERN_E_INTERNAL, queueing nothing, if the
 * writer is stopping.
 */
static enum vaern_err
enqueue_locked(struct audit_writer *w, struct pending *p, struct vaern_msg *msg)
{
	if (w->stopping)
		return vaern_fail(msg, VAERN_E_INTERNAL,
		                  "the audit writer is stopping");
	p->next = NULL;
	if (w->tail != NULL)
		w->tail->next = p;
	else
		w->head = p;
	w->tail = p;
	w->queued += p->n;
	w->arrivals++;
	if (w->state == WRITER_IDLE ||
	    (w->state == WRITER_GROUP &&
	     (w->arrivals >= w->expect || w->queued >= w->max_batch)))
		pthread_cond_signal(&w->work);
	return VAERN_OK;
}

/* Queues p and sleeps until the writer has committed it (or failed). */
static enum vaern_err
enqueue_wait(struct audit_writer *w, struct pending *p, struct vaern_msg *msg)
{
	enum vaern_err err;

	if (sem_init(&p->done, 0, 0) != 0)
		return vaern_fail(msg, VAERN_E_INTERNAL,
		                  "audit: sem_init failed");
	pthread_mutex_lock(&w->lock);
	err = enqueue_locked(w, p, msg);
	pthread_mutex_unlock(&w->lock);
	if (err != VAERN_OK) {
		sem_destroy(&p->done);
		return err;
	}
	while (sem_wait(&p->done) != 0)
		; /* EINTR: a signal handler ran */
	sem_destroy(&p->done);
	if (p->err != VAERN_OK && msg != NULL)
		*msg = p->msg;
	return p->err;
}

/* Checks n entries for an append. */
static enum vaern_err
check_entries(const struct audit_entry *entries, size_t n,
              struct vaern_msg *msg)
{
	enum vaern_err err;

	if (n == 0 || n > AUDIT_MANY_MAX)
		return vaern_fail(msg, VAERN_E_LIMIT,
		                  "audit: 1 to %d entries at a time",
		                  AUDIT_MANY_MAX);
	for (size_t i = 0; i < n; i++) {
		if ((err = audit_entry_check(&entries[i], msg)) != VAERN_OK)
			return err;
	}
	return VAERN_OK;
}

/* Bytes of a copy of s, NUL included; 0 for NULL. */
static size_t
text_bytes(const char *s)
{
	return s != NULL ? strlen(s) + 1 : 0;
}

/* Copies s to *at and advances it; NULL stays NULL. */
static const char *
text_copy(char **at, const char *s)
{
	size_t len;
	char *copy = *at;

	if (s == NULL)
		return NULL;
	len = strlen(s) + 1;
	memcpy(copy, s, len);
	*at += len;
	return copy;
}

/*
 * A heap node holding copies of entries[0..n), which were checked (so
 * every field is bounded): one allocation, freed by the writer. NULL when
 * out of memory.
 */
static struct pending *
pending_copy(const struct audit_entry *entries, size_t n)
{
	size_t size = sizeof(struct pending) + n * sizeof(struct audit_entry);
	struct audit_entry *copies;
	struct pending *p;
	char *at;

	for (size_t i = 0; i < n; i++) {
		const struct audit_entry *e = &entries[i];

		size += text_bytes(e->controller) + text_bytes(e->actor) +
		        text_bytes(e->role) + text_bytes(e->purpose) +
		        text_bytes(e->action) + text_bytes(e->categories) +
		        text_bytes(e->rule) + text_bytes(e->reason) +
		        text_bytes(e->policy) +
		        (e->subject != NULL ? AUDIT_SUBJECT_BYTES : 0);
	}
	if ((p = malloc(size)) == NULL)
		return NULL;
	memset(p, 0, sizeof(*p));
	copies = (struct audit_entry *)(void *)(p + 1);
	at = (char *)(copies + n);
	for (size_t i = 0; i < n; i++) {
		const struct audit_entry *e = &entries[i];
		struct audit_entry *c = &copies[i];

		c->controller = text_copy(&at, e->controller);
		c->actor = text_copy(&at, e->actor);
		c->role = text_copy(&at, e->role);
		c->purpose = text_copy(&at, e->purpose);
		c->action = text_copy(&at, e->action);
		c->categories = text_copy(&at, e->categories);
		c->rule = text_copy(&at, e->rule);
		c->reason = text_copy(&at, e->reason);
		c->policy = text_copy(&at, e->policy);
		c->allowed = e->allowed;
		c->outbox_id = e->outbox_id;
		c->at = e->at;
		c->subject = NULL;
		if (e->subject != NULL) {
			memcpy(at, e->subject, AUDIT_SUBJECT_BYTES);
			c->subject = (const unsigned char *)at;
			at += AUDIT_SUBJECT_BYTES;
		}
	}
	p->entries = copies;
	p->n = n;
	return p;
}

enum vaern_err
audit_append_async(struct audit_writer *w, const struct audit_entry *entries,
                   size_t n, audit_done_fn done, void *arg,
                   struct vaern_msg *msg)
{
	struct pending *p;
	enum vaern_err err;

	if ((err = check_entries(entries, n, msg)) != VAERN_OK)
		return err;
	if ((p = pending_copy(entries, n)) == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	p->at = clock_now();
	p->done_fn = done;
	p->done_arg = arg;
	pthread_mutex_lock(&w->lock);
	err = enqueue_locked(w, p, msg);
	pthread_mutex_unlock(&w->lock);
	if (err != VAERN_OK)
		free(p);
	return err;
}

enum vaern_err
audit_append_many(struct audit_writer *w, const struct audit_entry *entries,
                  size_t n, int64_t *first_seq, struct vaern_msg *msg)
{
	struct pending p;
	enum vaern_err err;

	if ((err = check_entries(entries, n, msg)) != VAERN_OK)
		return err;
	memset(&p, 0, sizeof(p));
	p.entries = entries;
	p.n = n;
	p.at = clock_now();
	if ((err = enqueue_wait(w, &p, msg)) == VAERN_OK && first_seq != NULL)
		*first_seq = p.first_seq;
	return err;
}

enum vaern_err
audit_append(struct audit_writer *w, const struct audit_entry *e, int64_t *seq,
             struct vaern_msg *msg)
{
	return audit_append_many(w, e, 1, seq, msg);
}

void
audit_writer_stats(struct audit_writer *w, uint64_t *entries, uint64_t *batches)
{
	pthread_mutex_lock(&w->lock);
	if (entries != NULL)
		*entries = w->entries;
	if (batches != NULL)
		*batches = w->batches;
	pthread_mutex_unlock(&w->lock);
}

uint64_t
audit_writer_failures(struct audit_writer *w)
{
	uint64_t n;

	pthread_mutex_lock(&w->lock);
	n = w->failures;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void
audit_writer_stop(struct audit_writer *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_signal(&w->work);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	assert(w->head == NULL);
	ckpt_stop(w->ckpt);
	audit_store_close(w->copier);
	/* The last head, waited for. */
	audit_settler_stop(w->settler);
	audit_chain_close(&w->chain);
	pthread_cond_destroy(&w->work);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

enum vaern_err
audit_append_direct(const struct audit_trail *t,
                    const struct audit_entry *entries, size_t n,
                    int64_t *first_seq, struct vaern_msg *msg)
{
	struct audit_chain c;
	enum vaern_err err;
	int64_t first = 0;

	if ((err = check_entries(entries, n, msg)) != VAERN_OK)
		return err;
	if (sodium_init() < 0)
		return vaern_fail(msg, VAERN_E_CRYPTO,
		                  "libsodium failed to initialise");
	if ((err = audit_chain_open(&c, t, msg)) != VAERN_OK)
		return err;
	/* The caller may hold the data store's write lock (an entry audited
	 * inside a change's transaction): never wait for it. */
	c.settle_nowait = 1;
	if ((err = audit_chain_begin(&c, msg)) != VAERN_OK)
		goto done;
	if ((err = insert_entries(&c, entries, n, clock_now(), &first, msg)) !=
	    VAERN_OK) {
		audit_chain_rollback(&c);
		goto done;
	}
	if ((err = audit_chain_commit(&c, msg)) != VAERN_OK)
		goto done;
	if (first_seq != NULL)
		*first_seq = first;
	/* Committed: a head the data store misses now is caught up by the
	 * next writer, so its failure is not the append's. */
	if (audit_chain_settle(&c, NULL) != VAERN_OK)
		err = VAERN_OK;
done:
	audit_chain_close(&c);
	return err;
}
