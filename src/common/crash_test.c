/*
 * crash_test.c -- the crash points of the test binary vaern-crashtest:
 * SIGKILL when VAERN_CRASH_AT names the point (crash.h).
 */
#include "crash.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
crash_point(const char *name)
{
	const char *at = getenv("VAERN_CRASH_AT");

	if (at != NULL && strcmp(at, name) == 0)
		(void)kill(getpid(), SIGKILL);
}
