/*
 * fuzz_traffic_store.h -- the retained-data store both traffic harnesses
 * fuzz against (fuzz_traffic.c: the record parser; fuzz_traffic_day.c:
 * the day-file reader): opened in dir (a mkdtemp template), with three
 * cells, days kept a year, no day ever dropped.
 */
#ifndef VAERN_FUZZ_TRAFFIC_STORE_H
#define VAERN_FUZZ_TRAFFIC_STORE_H

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "traffic/traffic.h"

static enum vaern_err
fuzz_no_drop(void *arg, const char *controller, long day, struct vaern_msg *msg)
{
	(void)arg;
	(void)controller;
	(void)day;
	(void)msg;
	return VAERN_OK;
}

/* Opens the store with day keys from get, or aborts. */
static struct traffic_store *
fuzz_traffic_open(char *dir,
                  enum vaern_err (*get)(void *, const char *, long, int,
                                        unsigned char *, struct vaern_msg *))
{
	struct traffic_keys keys = {get, fuzz_no_drop, NULL};
	struct period keep = {1, PERIOD_YEARS};
	struct traffic_store *st;
	struct vaern_msg msg;
	char path[128];
	size_t added;
	FILE *f;

	if (sodium_init() < 0 || mkdtemp(dir) == NULL ||
	    traffic_open(dir, "fuzz", &keys, keep, &st, &msg) != VAERN_OK)
		abort();
	snprintf(path, sizeof(path), "%s/in.csv", dir);
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	fputs("mcc,mnc,lac,ci,lat,lon,azimuth\n"
	      "238,01,100,1001,55.6761,12.5683,120\n"
	      "238,01,100,1002,55.68,12.57,\n"
	      "238,01,100,1003,55.69,12.58,\n",
	      f);
	fclose(f);
	if (traffic_cells_load(st, path, &added, &msg) != VAERN_OK)
		abort();
	return st;
}

#endif
