/*
 * heap.c -- see heap.h.
 */
#include "heap.h"

#include <malloc.h>

void
heap_keep_freed(void)
{
	/* Fixed values also turn off glibc's sliding thresholds, under
	 * which a report still took about 1,850 fresh pages every time
	 * (measured with getrusage; 0 with these). */
	(void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
	(void)mallopt(M_TRIM_THRESHOLD, 64 << 20);
}
