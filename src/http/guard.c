/*
 * guard.c -- the connection guard (issue 12, slow clients): a deadline for
 * a request's headers that trickling does not extend, the idle and the
 * slow closed first when connections run short, a limit per client
 * address, and the trusted proxies whose X-Forwarded-For names the
 * client.
 *
 * libmicrohttpd 0.9.75 times a connection out only after timeout_s
 * without a byte, so a client sending one byte a second holds its
 * connection for ever, and at its connection limit the daemon stops
 * accepting: 1,200 such clients starve everyone else. The guard keeps its
 * own register of connections (MHD_OPTION_NOTIFY_CONNECTION):
 *
 *   - a connection is "waiting" from its start, and again from the end of
 *     each answer, until the headers of its next request are in (begin()
 *     in server.c calls guard_headers_in); the waiting list is in the
 *     order they began to wait, oldest first;
 *   - a watchdog thread shuts down (shutdown(2)) every connection that has
 *     waited header_timeout_s, however many bytes it sent meanwhile;
 *   - from the headers until its request is complete, a connection is
 *     "reading" its body (guard_body_done ends it), in the reading list;
 *   - a connection that takes the number of live connections past
 *     connections_max shuts down the oldest waiting one, else the one
 *     that has been reading its body longest (a slow upload); only if
 *     none is either is the new one refused. A connection whose request
 *     is being answered is never chosen. The daemon's own limit is set
 *     higher (guard_daemon_limit), so it keeps accepting and the guard
 *     chooses;
 *   - a connection that takes its address past per_ip_max shuts down
 *     that address's oldest waiting (else slowest reading) connection,
 *     and is refused only if the address has neither; trusted proxies
 *     have no such limit.
 *
 * A shut-down connection reads end-of-file in its worker, which closes
 * it. The register entry goes when the daemon reports the close, which it
 * does before it closes the descriptor; the guard touches descriptors
 * only under its lock and only while registered, so it never shuts a
 * descriptor number that was reused.
 */
#include "http_impl.h"

#include <arpa/inet.h>
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Buckets of the per-address count table (a power of two). */
#define GUARD_BUCKETS 1024u

/* The watchdog's longest sleep, in milliseconds. */
#define GUARD_TICK_MS 250

/* Room above connections_max in the daemon's own limit: the guard must
 * see a connection to evict another for it. */
#define GUARD_DAEMON_SLACK 64u

/* Descriptors kept for the rest of the process: databases, the log, the
 * listening socket, the daemon's own. */
#define GUARD_FD_RESERVE 128u

/* The least connections_max the descriptors may cut it to. */
#define GUARD_CONNECTIONS_MIN 16u

/* One client address and how many connections it holds. */
struct guard_addr {
	struct guard_addr *next;  /* in its bucket */
	uint8_t ip[GUARD_IP_LEN]; /* IPv4 as ::ffff:a.b.c.d */
	unsigned count;           /* registered connections */
};

/* Where a connection is: the lists it can be chosen from. */
enum guard_state {
	GUARD_SERVED,  /* its request is being answered, or it is doomed */
	GUARD_WAITING, /* for a request's headers */
	GUARD_READING  /* a request's body */
};

/* A list of connections, oldest first. */
struct guard_list {
	struct guard_conn *head; /* the oldest */
	struct guard_conn *tail; /* the newest */
};

/* One registered connection; the daemon's socket_context. */
struct guard_conn {
	struct guard_conn *prev, *next; /* in the list of its state */
	MHD_socket fd;                  /* the connection's socket */
	struct guard_addr *addr;        /* its address's count */
	struct timespec since;          /* when it entered its state */
	enum guard_state state;         /* and so its list */
	int doomed;                     /* 1: shut down by the guard */
	int proxy;                      /* 1: from a trusted proxy */
};

struct http_guard {
	pthread_mutex_t lock;      /* guards everything below */
	pthread_cond_t wake;       /* the watchdog's sleep */
	pthread_t watchdog;        /* the deadline thread */
	int running;               /* 1 while the watchdog runs */
	int stop;                  /* 1: the watchdog is to end */
	unsigned header_timeout_s; /* from the config */
	unsigned connections_max;  /* from the config */
	unsigned per_ip_max;       /* from the config */
	unsigned live;             /* registered, not doomed */
	struct guard_list waiting; /* for headers, oldest first */
	struct guard_list reading; /* their bodies, oldest first */
	size_t nproxies;           /* entries in proxies */
	struct guard_cidr proxies[HTTP_PROXIES_MAX]; /* trusted proxies */
	struct guard_addr *bucket[GUARD_BUCKETS];    /* counts by address */
	_Atomic uint64_t shed_deadline; /* closed at the header deadline */
	_Atomic uint64_t shed_pressure; /* closed for a newer connection */
	_Atomic uint64_t refused;       /* refused: no room, or its
	                                   address past per_ip_max */
};

/* ---- addresses ---- */

/* The 16-byte form of sa (IPv4 mapped); -1 for another family. */
static int
ip_of(const struct sockaddr *sa, uint8_t ip[GUARD_IP_LEN])
{
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET6) {
		memcpy(ip,
		       &((const struct sockaddr_in6 *)(const void *)sa)
		                ->sin6_addr,
		       GUARD_IP_LEN);
		return 0;
	}
	if (sa->sa_family == AF_INET) {
		memset(ip, 0, 10);
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12,
		       &((const struct sockaddr_in *)(const void *)sa)
		                ->sin_addr,
		       4);
		return 0;
	}
	return -1;
}

/* Parses a numeric IPv4 or IPv6 address of len bytes into ip; *v4 is 1
 * for IPv4. */
static int
ip_parse(const char *s, size_t len, uint8_t ip[GUARD_IP_LEN], int *v4)
{
	char text[INET6_ADDRSTRLEN];
	struct in_addr a4;

	if (len == 0 || len >= sizeof(text))
		return -1;
	memcpy(text, s, len);
	text[len] = '\0';
	if (inet_pton(AF_INET, text, &a4) == 1) {
		memset(ip, 0, 10);
		ip[10] = ip[11] = 0xff;
		memcpy(ip + 12, &a4, 4);
		*v4 = 1;
		return 0;
	}
	*v4 = 0;
	return inet_pton(AF_INET6, text, ip) == 1 ? 0 : -1;
}

static int
cidr_match(const struct guard_cidr *c, const uint8_t ip[GUARD_IP_LEN])
{
	unsigned bits = c->bits, i = 0;

	for (; bits >= 8; bits -= 8, i++)
		if (c->ip[i] != ip[i])
			return 0;
	if (bits == 0)
		return 1;
	return ((c->ip[i] ^ ip[i]) & (uint8_t)(0xff00u >> bits)) == 0;
}

static int
trusted(const struct guard_cidr *list, size_t n, const uint8_t ip[GUARD_IP_LEN])
{
	for (size_t i = 0; i < n; i++)
		if (cidr_match(&list[i], ip))
			return 1;
	return 0;
}

/* Optional whitespace of HTTP and of a list on the command line. */
static int
ows(char c)
{
	return c == ' ' || c == '\t';
}

enum vaern_err
guard_parse_proxies(const char *text, struct guard_cidr *out, size_t max,
                    size_t *n, struct vaern_msg *msg)
{
	const char *p = text;
	size_t count = 0, item = 0;

	*n = 0;
	while (*p != '\0') {
		const char *start, *end, *slash;
		unsigned long bits;
		int v4;

		item++;
		while (ows(*p))
			p++;
		start = p;
		while (*p != '\0' && *p != ',')
			p++;
		end = p;
		while (end > start && ows(end[-1]))
			end--;
		if (*p == ',')
			p++;
		if (count == max)
			return vaern_fail(msg, VAERN_E_LIMIT,
			                  "trusted proxies: at most %zu", max);
		slash = memchr(start, '/', (size_t)(end - start));
		if (ip_parse(start, (size_t)((slash ? slash : end) - start),
		             out[count].ip, &v4) != 0)
			goto bad;
		bits = GUARD_IP_LEN * 8;
		if (slash != NULL) {
			const char *d = slash + 1;

			if (d == end || end - d > 3)
				goto bad;
			bits = 0;
			for (; d < end; d++) {
				if (*d < '0' || *d > '9')
					goto bad;
				bits = bits * 10 + (unsigned long)(*d - '0');
			}
			if (bits > (v4 ? 32u : 128u))
				goto bad;
			if (v4)
				bits += 96;
		}
		out[count].bits = (unsigned)bits;
		count++;
	}
	*n = count;
	return VAERN_OK;
bad:
	return vaern_fail(msg, VAERN_E_INVALID,
	                  "trusted proxies: item %zu is not a numeric "
	                  "address or address/prefix",
	                  item);
}

int
guard_forwarded_client(const struct guard_cidr *proxies, size_t nproxies,
                       const char *const *values, size_t nvalues,
                       uint8_t ip[GUARD_IP_LEN])
{
	int found = 0;

	/* Right to left: each proxy appends the address it saw, so the
	 * rightmost entry not a trusted proxy is the client. */
	for (size_t v = nvalues; v-- > 0;) {
		const char *s = values[v];
		const char *end = s + strlen(s);

		while (end > s) {
			const char *e = end, *b;
			uint8_t cand[GUARD_IP_LEN];
			int v4;

			while (e > s && ows(e[-1]))
				e--;
			b = e;
			while (b > s && b[-1] != ',')
				b--;
			end = b > s ? b - 1 : s;
			while (b < e && ows(*b))
				b++;
			if (ip_parse(b, (size_t)(e - b), cand, &v4) != 0)
				return -1;
			memcpy(ip, cand, GUARD_IP_LEN);
			found = 1;
			if (!trusted(proxies, nproxies, cand))
				return 0;
		}
	}
	return found ? 0 : 1;
}

/* ---- the register ---- */

static struct guard_addr **
addr_slot(struct http_guard *g, const uint8_t ip[GUARD_IP_LEN])
{
	uint32_t h = 2166136261u; /* FNV-1a */
	struct guard_addr **pp;

	for (size_t i = 0; i < GUARD_IP_LEN; i++)
		h = (h ^ ip[i]) * 16777619u;
	pp = &g->bucket[h & (GUARD_BUCKETS - 1)];
	while (*pp != NULL && memcmp((*pp)->ip, ip, GUARD_IP_LEN) != 0)
		pp = &(*pp)->next;
	return pp;
}

static struct guard_list *
list_of(struct http_guard *g, enum guard_state state)
{
	return state == GUARD_WAITING ? &g->waiting : &g->reading;
}

/* Takes c out of its list: it is served now. */
static void
set_served(struct http_guard *g, struct guard_conn *c)
{
	struct guard_list *l;

	if (c->state == GUARD_SERVED)
		return;
	l = list_of(g, c->state);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
	c->state = GUARD_SERVED;
}

/* Moves c to the end of the list of state, from now. */
static void
set_state(struct http_guard *g, struct guard_conn *c, enum guard_state state)
{
	struct guard_list *l = list_of(g, state);

	set_served(g, c);
	(void)clock_gettime(CLOCK_MONOTONIC, &c->since);
	c->prev = l->tail;
	c->next = NULL;
	if (l->tail != NULL)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	c->state = state;
}

/* Shuts c down: its worker reads end-of-file and closes it. Under the
 * lock, while c is registered (the descriptor is still c's). */
static void
doom(struct http_guard *g, struct guard_conn *c)
{
	if (c->doomed)
		return;
	set_served(g, c);
	c->doomed = 1;
	assert(g->live > 0);
	g->live--;
	(void)shutdown(c->fd, SHUT_RDWR);
}

/* The oldest connection of l from addr other than not; NULL if none. */
static struct guard_conn *
oldest_of(const struct guard_list *l, const struct guard_addr *addr,
          const struct guard_conn * not )
{
	for (struct guard_conn *c = l->head; c != NULL; c = c->next)
		if (c->addr == addr && c != not )
			return c;
	return NULL;
}

static void
conn_started(struct http_guard *g, struct MHD_Connection *conn,
             void **socket_context)
{
	const union MHD_ConnectionInfo *fdi = MHD_get_connection_info(
	        conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	const union MHD_ConnectionInfo *ai = MHD_get_connection_info(
	        conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	uint8_t ip[GUARD_IP_LEN];
	struct guard_addr **slot;
	struct guard_conn *c;

	*socket_context = NULL;
	if (fdi == NULL)
		return;
	c = calloc(1, sizeof(*c));
	if (c == NULL || ai == NULL || ip_of(ai->client_addr, ip) != 0) {
		/* Cannot be watched: not served. */
		free(c);
		(void)shutdown(fdi->connect_fd, SHUT_RDWR);
		return;
	}
	c->fd = fdi->connect_fd;
	pthread_mutex_lock(&g->lock);
	slot = addr_slot(g, ip);
	if (*slot == NULL) {
		*slot = calloc(1, sizeof(**slot));
		if (*slot == NULL) {
			pthread_mutex_unlock(&g->lock);
			free(c);
			(void)shutdown(fdi->connect_fd, SHUT_RDWR);
			return;
		}
		memcpy((*slot)->ip, ip, GUARD_IP_LEN);
	}
	c->addr = *slot;
	c->addr->count++;
	c->proxy = trusted(g->proxies, g->nproxies, ip);
	*socket_context = c;
	g->live++;
	set_state(g, c, GUARD_WAITING);
	if (!c->proxy && c->addr->count > g->per_ip_max) {
		/* The address's own oldest waiting or slow connection makes
		 * room; only if it has none is the new one refused. */
		struct guard_conn *victim = oldest_of(&g->waiting, c->addr, c);

		if (victim == NULL)
			victim = oldest_of(&g->reading, c->addr, c);
		doom(g, victim != NULL ? victim : c);
		atomic_fetch_add_explicit(victim != NULL ? &g->shed_pressure
		                                         : &g->refused,
		                          1, memory_order_relaxed);
	} else if (g->live > g->connections_max) {
		/* The oldest waiting connection makes room (a newer one
		 * has not had its chance yet), else the slowest upload. */
		struct guard_conn *victim = g->waiting.head != c
		                                    ? g->waiting.head
		                                    : g->reading.head;

		if (victim != NULL) {
			doom(g, victim);
			atomic_fetch_add_explicit(&g->shed_pressure, 1,
			                          memory_order_relaxed);
		} else {
			doom(g, c);
			atomic_fetch_add_explicit(&g->refused, 1,
			                          memory_order_relaxed);
		}
	}
	pthread_mutex_unlock(&g->lock);
}

static void
conn_closed(struct http_guard *g, struct guard_conn *c)
{
	struct guard_addr **slot;

	pthread_mutex_lock(&g->lock);
	set_served(g, c);
	if (!c->doomed) {
		assert(g->live > 0);
		g->live--;
	}
	assert(c->addr->count > 0);
	if (--c->addr->count == 0) {
		slot = addr_slot(g, c->addr->ip);
		assert(*slot == c->addr);
		*slot = c->addr->next;
		free(c->addr);
	}
	pthread_mutex_unlock(&g->lock);
	free(c);
}

void
guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
             enum MHD_ConnectionNotificationCode toe)
{
	struct http_server *srv = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED)
		conn_started(srv->guard, conn, socket_context);
	else if (*socket_context != NULL)
		conn_closed(srv->guard, *socket_context);
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		*socket_context = NULL;
}

static struct guard_conn *
conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	        conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

int
guard_headers_in(struct http_server *srv, struct MHD_Connection *conn)
{
	struct http_guard *g = srv->guard;
	struct guard_conn *c = conn_of(conn);
	int ok;

	if (c == NULL)
		return -1;
	pthread_mutex_lock(&g->lock);
	ok = !c->doomed;
	if (ok)
		set_state(g, c, GUARD_READING);
	pthread_mutex_unlock(&g->lock);
	return ok ? 0 : -1;
}

void
guard_body_done(struct http_server *srv, struct MHD_Connection *conn)
{
	struct http_guard *g = srv->guard;
	struct guard_conn *c = conn_of(conn);

	if (c == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	if (c->state == GUARD_READING)
		set_served(g, c);
	pthread_mutex_unlock(&g->lock);
}

void
guard_request_done(struct http_server *srv, struct MHD_Connection *conn)
{
	struct http_guard *g = srv->guard;
	struct guard_conn *c = conn_of(conn);

	if (c == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	if (!c->doomed)
		set_state(g, c, GUARD_WAITING);
	pthread_mutex_unlock(&g->lock);
}

int
guard_is_proxy(struct http_server *srv, struct MHD_Connection *conn)
{
	struct guard_conn *c = conn_of(conn);

	(void)srv;
	return c != NULL && c->proxy; /* set once, at the start */
}

const struct guard_cidr *
guard_proxies(const struct http_server *srv, size_t *n)
{
	*n = srv->guard->nproxies;
	return srv->guard->proxies;
}

/* ---- the watchdog ---- */

static void *
watchdog(void *arg)
{
	struct http_guard *g = arg;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		struct timespec now, wake;

		(void)clock_gettime(CLOCK_MONOTONIC, &now);
		while (g->waiting.head != NULL &&
		       now.tv_sec - g->waiting.head->since.tv_sec >=
		               (time_t)g->header_timeout_s &&
		       (now.tv_sec - g->waiting.head->since.tv_sec >
		                (time_t)g->header_timeout_s ||
		        now.tv_nsec >= g->waiting.head->since.tv_nsec)) {
			doom(g, g->waiting.head);
			atomic_fetch_add_explicit(&g->shed_deadline, 1,
			                          memory_order_relaxed);
		}
		wake = now;
		wake.tv_nsec += GUARD_TICK_MS * 1000000L;
		if (wake.tv_nsec >= 1000000000L) {
			wake.tv_sec++;
			wake.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&g->wake, &g->lock, &wake);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

unsigned
guard_daemon_limit(unsigned connections_max, unsigned threads)
{
	/* Every worker's share must keep room for the newcomer. */
	return connections_max + connections_max / 4 + GUARD_DAEMON_SLACK +
	       threads * 8u;
}

unsigned
guard_fit_descriptors(unsigned connections_max, unsigned threads,
                      uint64_t descriptors)
{
	/*
	 * A connection the daemon cannot accept (no descriptor left) is
	 * never seen, so nothing is evicted for it and new clients wait in
	 * the backlog: the daemon's limit must fit the descriptors.
	 */
	uint64_t room = descriptors > GUARD_FD_RESERVE
	                        ? descriptors - GUARD_FD_RESERVE
	                        : 0;

	while (connections_max > GUARD_CONNECTIONS_MIN &&
	       guard_daemon_limit(connections_max, threads) > room)
		connections_max -=
		        connections_max / 8 > 0 ? connections_max / 8 : 1;
	return connections_max;
}

enum vaern_err
guard_start(struct http_server *srv, const struct http_config *c,
            struct vaern_msg *msg)
{
	struct http_guard *g;
	pthread_condattr_t ca;
	enum vaern_err err;

	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	srv->guard = g;
	g->header_timeout_s = c->header_timeout_s;
	g->connections_max = c->connections_max;
	g->per_ip_max = c->per_ip_max;
	if (c->trusted_proxies != NULL) {
		err = guard_parse_proxies(c->trusted_proxies, g->proxies,
		                          HTTP_PROXIES_MAX, &g->nproxies, msg);
		if (err != VAERN_OK)
			return err;
	}
	if (pthread_mutex_init(&g->lock, NULL) != 0)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&g->wake, &ca) != 0) {
		pthread_mutex_destroy(&g->lock);
		srv->guard = NULL;
		free(g);
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	}
	pthread_condattr_destroy(&ca);
	if (pthread_create(&g->watchdog, NULL, watchdog, g) != 0) {
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
		srv->guard = NULL;
		free(g);
		return vaern_fail(msg, VAERN_E_IO,
		                  "cannot start the connection guard");
	}
	g->running = 1;
	return VAERN_OK;
}

void
guard_stop(struct http_server *srv)
{
	struct http_guard *g = srv->guard;

	if (g == NULL)
		return;
	if (g->running) {
		pthread_mutex_lock(&g->lock);
		g->stop = 1;
		pthread_cond_signal(&g->wake);
		pthread_mutex_unlock(&g->lock);
		(void)pthread_join(g->watchdog, NULL);
		pthread_cond_destroy(&g->wake);
		pthread_mutex_destroy(&g->lock);
	}
	/* The daemon has stopped: every connection reported its close. */
	assert(g->waiting.head == NULL && g->reading.head == NULL);
	for (size_t i = 0; i < GUARD_BUCKETS; i++)
		assert(g->bucket[i] == NULL);
	free(g);
	srv->guard = NULL;
}

void
guard_metrics(const struct http_server *srv, struct http_buf *out)
{
	const struct http_guard *g = srv->guard;

	if (g == NULL)
		return;
	(void)http_buf_printf(
	        out,
	        "# HELP vaern_http_connections_shed_total Connections the "
	        "guard closed or refused.\n"
	        "# TYPE vaern_http_connections_shed_total counter\n"
	        "vaern_http_connections_shed_total{reason=\"header_deadline\"} "
	        "%llu\n"
	        "vaern_http_connections_shed_total{reason=\"pressure\"} %llu\n"
	        "vaern_http_connections_shed_total{reason=\"refused\"} %llu\n",
	        (unsigned long long)atomic_load(&g->shed_deadline),
	        (unsigned long long)atomic_load(&g->shed_pressure),
	        (unsigned long long)atomic_load(&g->refused));
}
