/*
 * crash.c -- the shipped crash points: they do nothing and read no
 * environment (crash.h). Weak, so that the test binary's crash_test.c
 * replaces it.
 */
#include "crash.h"

__attribute__((weak)) void
crash_point(const char *name)
{
	(void)name;
}
