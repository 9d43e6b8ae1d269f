/*
 * cmd_serve.c -- vaern serve: the HTTP/JSON API (src/api) on the embedded
 * HTTP server (src/http) until SIGTERM or SIGINT, which drain in-flight
 * requests and the audit queue before exit. SIGHUP reloads the policies
 * (issue 12): the --policy files again if the command line named some,
 * else the policies in the data directory.
 *
 * Under systemd (Type=notify, debian/vaern.service) it tells the service
 * manager READY=1 once it listens, RELOADING=1 and READY=1 around each
 * reload and STOPPING=1 when it drains (sd_notify: a no-op without
 * $NOTIFY_SOCKET).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "../api/api.h"
#include "../http/http.h"
#include "../outbox/smtp.h"
#include "../outbox/webhook.h"
#include "../store/db_health.h"
#include "../vault/vault.h"
#include "cli.h"

/* Worker threads per CPU by default. */
#define SERVE_THREADS_PER_CPU 2

/*
 * Connections from one client address. The server's default (64) is
 * what one benchmark's reads or creates alone use: with both at once (or
 * a reverse proxy's pool) the 65th connection on was accepted and closed
 * at once, the client reconnected, and the server spent its CPU on
 * 20,000 accepts a second while reads fell to a tenth of their rate
 * alone (issue 12, point 6). Many connections from anywhere remain
 * bounded by the global limit (HTTP_CONNECTIONS_MAX_DEFAULT).
 */
#define SERVE_PER_ADDRESS_MAX 256

/* The retention sweep's default interval, and the longest one. */
#define SERVE_SWEEP_EVERY (24ul * 3600)
#define SERVE_SWEEP_MAX   CLI_DURATION_MAX

const char cli_serve_usage[] =
        "usage: vaern [--data DIR] serve [--config FILE] [--policy FILE]...\n"
        "        [--listen ADDR]\n"
        "        [--tls-cert FILE --tls-key FILE] [--insecure] [--threads N]\n"
        "        [--body-max BYTES] [--sweep-every DURATION] [--quiet]\n"
        "        [--max-connections N] [--per-address-max N]\n"
        "        [--header-timeout SECONDS] [--idle-timeout SECONDS]\n"
        "        [--trusted-proxy LIST]\n"
        "        [--smtp URL --smtp-from ADDR [--smtp-user U\n"
        "         --smtp-password-file FILE] [--smtp-ca FILE]\n"
        "         [--smtp-timeout SECONDS] [--smtp-insecure]\n"
        "         [--smtp-spool-phone]]\n"
        "        [--webhook URL]... [--webhook-secret-file FILE]\n"
        "        [--webhook-due-within DAYS] [--webhook-timeout SECONDS]\n"
        "        [--checkpoints DIR]\n"
        "--config FILE: the options from FILE, one \"key = value\" a line\n"
        "(the option's name without --, _ for -; true/false for a flag;\n"
        "docs/operations.md); the command line overrides it.\n"
        "SIGHUP re-reads the --policy files (all checked before any is\n"
        "loaded), or without them has every worker recompile the\n"
        "policies stored in DIR; a `vaern policy load` reaches the\n"
        "running server by itself within a second.\n"
        "--threads: worker threads (default two per CPU: a request waiting\n"
        "for its audit entry holds no thread); --quiet: no request log on\n"
        "stderr.\n"
        "--max-connections: connections at once (default 1024); past it\n"
        "the connection that has waited longest for a request's headers\n"
        "(else the slowest upload) is closed. --per-address-max:\n"
        "connections from one client address (default 256); past it that\n"
        "address's own longest waiting. --header-timeout: a request's headers\n"
        "must be in within SECONDS of the connection's start or of the\n"
        "previous answer (default 10). --idle-timeout: no byte for\n"
        "SECONDS closes a connection (default 30). --trusted-proxy:\n"
        "comma-separated addresses or address/prefix whose\n"
        "X-Forwarded-For names the client (default none).\n"
        "--sweep-every: the retention sweep's interval, N followed by s, m,\n"
        "h or d (default 24h; the first sweep at most 5 minutes after\n"
        "start); 0 or off: no scheduled sweep.\n"
        "ADDR is 127.0.0.1:8080 (default), [::1]:8080, 0.0.0.0:443 ...; port "
        "0\n"
        "picks a free port. Plain HTTP is served on loopback only, unless\n"
        "--insecure (AURA-SEC-1).\n"
        "--smtp: one-time codes (AOPT-ACCESS-1) go by e-mail through the\n"
        "mail server smtp://HOST[:PORT] (STARTTLS required) or\n"
        "smtps://HOST[:PORT], not to the spool DIR/outbox. The password is\n"
        "read from the first line of FILE (never the command line). Mail in\n"
        "the clear only to smtp:// on a loopback address with\n"
        "--smtp-insecure. --smtp-timeout: a whole send (default 30).\n"
        "A phone contact cannot be reached by e-mail: refused, unless\n"
        "--smtp-spool-phone spools it to DIR/outbox. VAERN_SMTP_URL,\n"
        "_FROM, _USER, _PASSWORD_FILE, _CA, _TIMEOUT, _INSECURE and\n"
        "_SPOOL_PHONE stand in when --smtp is not given.\n"
        "--webhook: POST each event (a request created, verified, due\n"
        "within --webhook-due-within days (default 7), extended, completed,\n"
        "refused; a breach's 72-hour clock; a sweep done; a policy loaded)\n"
        "to URL (https://, or http:// to a loopback address; up to 8),\n"
        "signed with HMAC-SHA256 under the first line of the secret FILE\n"
        "(mode 0600) in the Vaern-Signature header; from a queue in the\n"
        "store, retried with backoff (docs/operations.md#webhooks).\n"
        "--webhook-timeout: one POST (default 10).\n"
        "--checkpoints DIR: the audit trail's signed checkpoints (vaern\n"
        "audit checkpoint --dir DIR): the console's audit view checks the\n"
        "trail against them and shows the newest.";

/* The SIGHUP thread: it sigwaits for SIGHUP, blocked in every thread. */
struct serve_hup {
	struct api *api;
	char **policies; /* the --policy files, npolicies of them */
	int npolicies;
	atomic_int stop; /* 1: the next SIGHUP ends the thread */
	pthread_t thread;
	int started;
};

/*
 * Loads the --policy files again: every file is checked first, so one
 * with a problem leaves every policy as it was (its problems on stderr,
 * as `vaern policy check` prints them); then each is loaded, one
 * controller per transaction. Without --policy files the workers
 * recompile what the data directory holds.
 */
static void
serve_reload(struct serve_hup *h)
{
	struct policy_diags *diags = calloc(1, sizeof(*diags));
	struct vaern_msg msg = {{0}};
	struct vault *v = NULL;
	enum vaern_err err = VAERN_OK;
	int i;

	if (diags == NULL) {
		err = VAERN_E_NOMEM;
		goto done;
	}
	for (i = 0; i < h->npolicies; i++) {
		struct policy *p = NULL;

		memset(diags, 0, sizeof(*diags));
		err = policy_load_file(h->policies[i], &p, diags);
		policy_free(p);
		if (err != VAERN_OK) {
			cli_print_diags(h->policies[i], diags);
			goto done;
		}
	}
	if (h->npolicies > 0 &&
	    (err = vault_open(cli_globals.data_dir, &v, &msg)) != VAERN_OK)
		goto done;
	for (i = 0; i < h->npolicies; i++) {
		memset(diags, 0, sizeof(*diags));
		err = vault_policy_load(v, h->policies[i], diags, NULL, &msg);
		if (err != VAERN_OK) {
			cli_print_diags(h->policies[i], diags);
			goto done;
		}
	}
	/* At once, not at the watcher's next look. */
	api_policy_reload(h->api);
done:
	/* File names and counts only: a policy holds no personal data. */
	if (err == VAERN_OK)
		fprintf(stderr,
		        "{\"event\":\"policy_reload\",\"policy_reload\":\"ok\","
		        "\"files\":%d}\n",
		        h->npolicies);
	else
		fprintf(stderr,
		        "{\"event\":\"policy_reload\",\"policy_reload\":"
		        "\"failed\",\"error\":\"%s\","
		        "\"in_force\":\"unchanged\"}\n",
		        vaern_strerror(err));
	vault_close(v);
	free(diags);
}

static void *
serve_hup_main(void *arg)
{
	struct serve_hup *h = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (atomic_load(&h->stop))
			break;
		(void)sd_notify(0, "RELOADING=1");
		serve_reload(h);
		(void)sd_notify(0, "READY=1");
	}
	return NULL;
}

/* The webhook deliverer, for /metrics (NULL: none). */
static struct webhook *serve_webhook;

/* /metrics: the API's and the webhooks'. */
static void
serve_metrics(void *app, struct http_buf *out)
{
	api_metrics(app, out);
	webhook_metrics(serve_webhook, out);
}

/* /healthz: the store's check (issue 14); none on SQLite. */
static struct db_health *serve_health;

static int
serve_ready(void *app, char *reason, size_t size)
{
	char why[DB_HEALTH_REASON_MAX];

	(void)app;
	if (db_health_ready(serve_health, why))
		return 1;
	(void)snprintf(reason, size, "%s", why);
	return 0;
}

/* One JSON line per request on stderr (the journal under systemd):
 * its id (X-Request-Id), method, route name, status and latency; no
 * path, no query, no body, no address (issue 19 point 5). */
static void
log_request(void *app, const struct http_log_record *r)
{
	(void)app;
	fprintf(stderr,
	        "{\"event\":\"request\",\"id\":%llu,\"method\":\"%s\","
	        "\"route\":\"%s\",\"status\":%d,\"ms\":%.3f}\n",
	        (unsigned long long)r->id, r->method, r->route, r->status,
	        r->seconds * 1000.0);
}

static int
number(const char *s, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long v = strtoul(s, &end, 10);

	if (end == s || *end != '\0' || v > max || s[0] == '-')
		return -1;
	*out = v;
	return 0;
}

/* The connection limits of issue 12: option, field, ceiling. */
struct limit_option {
	const char *name;  /* "--max-connections" */
	size_t offset;     /* of the unsigned field in struct http_config */
	unsigned long max; /* largest value; the smallest is 1 */
	const char *usage; /* the message for a bad value */
};

static const struct limit_option limit_options[] = {
        {"--max-connections", offsetof(struct http_config, connections_max),
         HTTP_CONNECTIONS_MAX_LIMIT, "--max-connections: 1 to 65536"},
        {"--per-address-max", offsetof(struct http_config, per_ip_max),
         HTTP_CONNECTIONS_MAX_LIMIT, "--per-address-max: 1 to 65536"},
        {"--header-timeout", offsetof(struct http_config, header_timeout_s),
         HTTP_TIMEOUT_MAX_S, "--header-timeout: 1 to 3600 seconds"},
        {"--idle-timeout", offsetof(struct http_config, timeout_s),
         HTTP_TIMEOUT_MAX_S, "--idle-timeout: 1 to 3600 seconds"},
};

static const struct limit_option *
limit_option(const char *name)
{
	for (size_t i = 0; i < sizeof(limit_options) / sizeof(limit_options[0]);
	     i++)
		if (strcmp(name, limit_options[i].name) == 0)
			return &limit_options[i];
	return NULL;
}

/* No core dumps, not dumpable: 0, or -1 (errno). */
static int
serve_harden(void)
{
	struct rlimit none = {0, 0};

	if (setrlimit(RLIMIT_CORE, &none) != 0)
		return -1;
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/*
 * --config FILE (anywhere among serve's arguments): *argv becomes *args,
 * the file's options first, then the command line's without --config,
 * so the command line's own options win. EXIT_OK, or an exit code.
 */
static int
serve_config(int *argc, char ***argv, struct cli_config *conf, char ***args)
{
	int i, j, at = -1;

	for (i = 1; i < *argc; i++)
		if (strcmp((*argv)[i], "--config") == 0) {
			at = i;
			break;
		}
	if (at < 0)
		return EXIT_OK;
	if (at + 1 >= *argc)
		return cli_usage("serve", "--config needs a FILE");
	if (cli_config_read((*argv)[at + 1], conf) != EXIT_OK)
		return EXIT_REFUSED;
	*args = calloc((size_t)(*argc + conf->nargs + 1), sizeof(**args));
	if (*args == NULL)
		return cli_report("serve", VAERN_E_NOMEM, NULL);
	j = 0;
	(*args)[j++] = (*argv)[0];
	for (i = 0; i < conf->nargs; i++)
		(*args)[j++] = conf->args[i];
	for (i = 1; i < *argc; i++)
		if (i != at && i != at + 1)
			(*args)[j++] = (*argv)[i];
	*argc = j;
	*argv = *args;
	return EXIT_OK;
}

int
cmd_serve(int argc, char **argv)
{
	struct cli_config conf;
	char **config_args = NULL;
	struct http_config cfg;
	struct vaern_msg msg = {{0}};
	struct http_server *srv = NULL;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct api *api = NULL;
	struct vault *v = NULL;
	struct smtp_outbox *smtp = NULL;
	struct cli_smtp smtp_opts;
	struct webhook_config hooks;
	struct webhook *webhook = NULL;
	struct policy_diags *diags = NULL;
	struct serve_hup hup;
	const struct http_route *routes;
	struct http_body_rule body_rules[2];
	size_t nroutes;
	unsigned long n, sweep_every = SERVE_SWEEP_EVERY;
	char **policies;
	const char *checkpoints = NULL;
	int npolicies = 0, rc = EXIT_OK, quiet = 0;
	enum vaern_err err;
	sigset_t sigs;
	struct rlimit nofile;

	memset(&cfg, 0, sizeof(cfg));
	memset(&smtp_opts, 0, sizeof(smtp_opts));
	memset(&hooks, 0, sizeof(hooks));
	memset(&hup, 0, sizeof(hup));
	atomic_init(&hup.stop, 0);
	cfg.listen = HTTP_LISTEN_DEFAULT;
	cfg.per_ip_max = SERVE_PER_ADDRESS_MAX;
	/*
	 * A request's answer waits for its audit entry to be durable (one
	 * fsync per group commit), but no thread waits with it (the response
	 * is held, src/api): the workers only need to keep the CPUs busy.
	 * Two per CPU, so one blocked on a page fault or a lock leaves the
	 * CPU to another; more would only switch contexts.
	 */
	if (cpus < 1)
		cpus = 1;
	cfg.threads = cpus > HTTP_THREADS_MAX / SERVE_THREADS_PER_CPU
	                      ? HTTP_THREADS_MAX
	                      : (unsigned)cpus * SERVE_THREADS_PER_CPU;
	memset(&conf, 0, sizeof(conf));
	if ((rc = serve_config(&argc, &argv, &conf, &config_args)) != EXIT_OK) {
		cli_config_free(&conf);
		return rc;
	}
	if ((policies = calloc((size_t)argc, sizeof(*policies))) == NULL) {
		cli_config_free(&conf);
		free(config_args);
		return cli_report("serve", VAERN_E_NOMEM, NULL);
	}
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(o, "--insecure") == 0) {
			cfg.insecure = 1;
			continue;
		}
		if (strcmp(o, "--quiet") == 0) {
			quiet = 1;
			continue;
		}
		switch (cli_smtp_option(&smtp_opts, argc, argv, &i)) {
		case 1: continue;
		case -1: rc = cli_usage("serve", cli_serve_usage); goto done;
		default: break;
		}
		if (val == NULL) {
			rc = cli_usage("serve", cli_serve_usage);
			goto done;
		}
		i++;
		if (strcmp(o, "--policy") == 0) {
			policies[npolicies++] = argv[i];
		} else if (strcmp(o, "--listen") == 0) {
			cfg.listen = val;
		} else if (strcmp(o, "--checkpoints") == 0) {
			checkpoints = val;
		} else if (strcmp(o, "--tls-cert") == 0) {
			cfg.tls_cert = val;
		} else if (strcmp(o, "--tls-key") == 0) {
			cfg.tls_key = val;
		} else if (strcmp(o, "--threads") == 0 &&
		           number(val, HTTP_THREADS_MAX, &n) == 0) {
			cfg.threads = (unsigned)n;
		} else if (limit_option(o) != NULL) {
			const struct limit_option *l = limit_option(o);

			if (number(val, l->max, &n) != 0 || n == 0) {
				rc = cli_usage("serve", l->usage);
				goto done;
			}
			*(unsigned *)(void *)((char *)&cfg + l->offset) =
			        (unsigned)n;
		} else if (strcmp(o, "--webhook") == 0) {
			if (hooks.nurls == WEBHOOK_ENDPOINTS_MAX) {
				rc = cli_usage("serve",
				               "--webhook: at most 8 URLs");
				goto done;
			}
			if ((err = webhook_url_check(val, &msg)) != VAERN_OK) {
				rc = cli_usage("serve", msg.text);
				goto done;
			}
			hooks.urls[hooks.nurls++] = val;
		} else if (strcmp(o, "--webhook-secret-file") == 0) {
			hooks.secret_file = val;
		} else if (strcmp(o, "--webhook-due-within") == 0) {
			if (number(val, VAULT_WEBHOOK_DUE_MAX, &n) != 0 ||
			    n == 0) {
				rc = cli_usage("serve", "--webhook-due-within: "
				                        "1 to 90 days");
				goto done;
			}
			hooks.due_within = n;
		} else if (strcmp(o, "--webhook-timeout") == 0) {
			if (number(val, WEBHOOK_TIMEOUT_MAX, &n) != 0 ||
			    n == 0) {
				rc = cli_usage("serve", "--webhook-timeout: "
				                        "1 to 300 seconds");
				goto done;
			}
			hooks.timeout = n;
		} else if (strcmp(o, "--trusted-proxy") == 0) {
			cfg.trusted_proxies = val;
		} else if (strcmp(o, "--body-max") == 0 &&
		           number(val, 64ul * 1024 * 1024, &n) == 0 && n > 0) {
			cfg.body_max = n;
		} else if (strcmp(o, "--sweep-every") == 0) {
			if (cli_duration(val, SERVE_SWEEP_MAX, &sweep_every) !=
			    0) {
				rc = cli_usage(
				        "serve",
				        "--sweep-every: N followed by s, "
				        "m, h or d (at most 366d), or 0 "
				        "or off");
				goto done;
			}
		} else {
			rc = cli_usage("serve", cli_serve_usage);
			goto done;
		}
	}
	/*
	 * GDPR-32, issue 13: the server holds the master keys for its whole
	 * life: no core dump of it is written (RLIMIT_CORE 0), and no other
	 * process of the user may read its memory through ptrace or /proc
	 * (not dumpable).
	 */
	if (serve_harden() != 0) {
		rc = cli_report("serve", VAERN_E_INTERNAL, NULL);
		goto done;
	}
	/* Policies given on the command line are checked, then loaded. */
	if (npolicies > 0) {
		if ((err = vault_open(cli_globals.data_dir, &v, &msg)) !=
		    VAERN_OK) {
			rc = cli_report("serve", err, &msg);
			goto done;
		}
		if ((diags = calloc(1, sizeof(*diags))) == NULL) {
			rc = cli_report("serve", VAERN_E_NOMEM, NULL);
			goto done;
		}
		for (int i = 0; i < npolicies; i++) {
			memset(diags, 0, sizeof(*diags));
			err = vault_policy_load(v, policies[i], diags, NULL,
			                        &msg);
			if (err != VAERN_OK) {
				cli_print_diags(policies[i], diags);
				rc = cli_report("serve", err, &msg);
				goto done;
			}
		}
		vault_close(v);
		v = NULL;
	}
	/* Before any thread starts: it initialises libcurl. A bad mail
	 * server setting stops the start, as a bad --listen does. */
	if ((rc = cli_smtp_open("serve", &smtp_opts, &smtp)) != EXIT_OK)
		goto done;
	/*
	 * SIGTERM and SIGINT are taken by sigwait in
	 * http_server_run_until_signal: block them before any thread (the
	 * audit writer, the HTTP workers) starts, so none of them dies of
	 * one.
	 */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP); /* for serve_hup_main alone */
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if ((err = api_new(cli_globals.data_dir, &api, &msg)) != VAERN_OK) {
		rc = cli_report("serve", err, &msg);
		goto done;
	}
	if (smtp != NULL)
		api_set_outbox(api, smtp_outbox_send, smtp);
	if (checkpoints != NULL)
		api_set_checkpoints(api, checkpoints);
	hup.api = api;
	hup.policies = policies;
	hup.npolicies = npolicies;
	if (pthread_create(&hup.thread, NULL, serve_hup_main, &hup) != 0) {
		rc = cli_report("serve", VAERN_E_INTERNAL, NULL);
		goto done;
	}
	hup.started = 1;
	cfg.signals = 1;
	/* A server holds a descriptor per connection: as many as the hard
	 * limit allows (the HTTP module fits --max-connections to them). */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
	    nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &nofile);
	}
	cfg.log = quiet ? NULL : log_request;
	cfg.metrics_extra = serve_metrics;
	if ((err = db_health_open(cli_globals.data_dir, &serve_health, &msg)) !=
	    VAERN_OK) {
		rc = cli_report("serve", err, &msg);
		goto done;
	}
	cfg.ready = serve_ready;
	cfg.after_handler = api_after_handler;
	routes = api_routes(&nroutes);
	cfg.nbody_rules = api_body_rules(
	        cfg.body_max != 0 ? cfg.body_max : HTTP_BODY_MAX_DEFAULT,
	        body_rules, sizeof(body_rules) / sizeof(body_rules[0]));
	cfg.body_rules = body_rules;
	if ((err = http_server_start(&cfg, routes, nroutes, api, &srv, &msg)) !=
	    VAERN_OK) {
		rc = cli_report("serve", err, &msg);
		goto done;
	}
	if ((err = api_sweep_start(api, sweep_every, !quiet, &msg)) !=
	    VAERN_OK) {
		rc = cli_report("serve", err, &msg);
		goto done;
	}
	/* Issue 16: the portal's one-time codes go out on their own thread
	 * (AURA-LOGIN-1: no login waits for a mail server). */
	if ((err = api_courier_start(api, &msg)) != VAERN_OK) {
		rc = cli_report("serve", err, &msg);
		goto done;
	}
	/* Issue 19: the webhooks' endpoints registered and their thread
	 * started (with none, the store queues nothing more). */
	hooks.log = 1;
	if ((err = webhook_start(cli_globals.data_dir, &hooks, &webhook,
	                         &msg)) != VAERN_OK) {
		rc = cli_report("serve", err, &msg);
		goto done;
	}
	serve_webhook = webhook;
	/* The address actually bound (port 0 picks one), for scripts. */
	printf("{\"listening\": \"%s\", \"port\": %u, \"tls\": %s, "
	       "\"outbox\": \"%s\"}\n",
	       cfg.listen, (unsigned)http_server_port(srv),
	       cfg.tls_cert != NULL ? "true" : "false",
	       smtp == NULL            ? "spool"
	       : smtp_outbox_tls(smtp) ? "smtp"
	                               : "smtp-insecure");
	fflush(stdout);
	/* The port is bound and the workers run: systemd may start what
	 * depends on vaern (no address or name in STATUS: none is needed). */
	(void)sd_notify(0, "READY=1\nSTATUS=serving");
	(void)http_server_run_until_signal(srv);
	(void)sd_notify(0, "STOPPING=1");
	/* A sweep under way ends with the batch it is in. */
	api_sweep_stop(api);
	/* After the HTTP workers: /metrics reads it. */
	http_server_stop(srv);
	srv = NULL;
	fputs("{\"event\": \"stopped\", \"stopped\": true}\n", stderr);
done:
	http_server_stop(srv);
	serve_webhook = NULL;
	db_health_close(serve_health); /* after the HTTP workers */
	serve_health = NULL;
	webhook_stop(webhook); /* an attempt under way ends first */
	if (hup.started) {
		atomic_store(&hup.stop, 1);
		pthread_kill(hup.thread, SIGHUP);
		pthread_join(hup.thread, NULL);
	}
	api_free(api);
	smtp_outbox_free(smtp); /* after every worker has stopped */
	vault_close(v);
	free(diags);
	free(policies);
	free(config_args);
	cli_config_free(&conf);
	return rc;
}
