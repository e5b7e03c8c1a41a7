/*
 * clock: elapsed time in milliseconds, for timeouts, lock waits and time
 * budgets.  It reads the monotonic clock, so a change of the wall clock
 * (NTP, an administrator, faketime in the tests) never stretches or cuts
 * a wait.  Times of records and log lines are wall-clock seconds,
 * time(3), not this.
 */
#ifndef MG_CLOCK_H
#define MG_CLOCK_H

#include <stdint.h>

/*
 * Milliseconds on CLOCK_MONOTONIC since an arbitrary start: only the
 * difference of two readings means anything.  Never fails.
 */
int64_t	clock_ms(void);

#endif
