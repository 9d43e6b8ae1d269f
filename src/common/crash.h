/*
 * crash.h -- named crash points for the crash tests (issue 12).
 *
 * crash_point("name") kills the process at once (SIGKILL, as kill -9
 * does: no exit handler, no flush) when the environment variable
 * VAERN_CRASH_AT names it. Only the test binary vaern-crashtest does
 * that (crash_test.c); the shipped vaern links crash.c, where a crash
 * point does nothing and reads no environment.
 *
 * The points (each where a crash between two writes once lost an entry):
 *   create_written   the create writer's subjects and outbox rows are
 *                    written, not committed
 *   create_committed committed, their entries not yet in the trail
 *   sweep_committed  a sweep batch committed, its entry not yet moved
 *   change_committed a vault call's own transaction committed (with the
 *                    entry vault_audit_next_change gave it), its entry
 *                    not yet moved
 *   trail_committed  the trail committed, the outbox rows not yet
 *                    deleted nor the head recorded
 */
#ifndef VAERN_CRASH_H
#define VAERN_CRASH_H

void crash_point(const char *name) __attribute__((nonnull));

#endif
