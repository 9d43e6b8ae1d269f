/*
 * heap.h -- how the process keeps the memory it has freed.
 */
#ifndef VAERN_HEAP_H
#define VAERN_HEAP_H

/*
 * Keeps freed memory in the process for reuse instead of handing it back
 * to the kernel after every large response. A page the kernel maps in
 * again costs a fault on first touch; on a virtual machine that is about
 * 14 us a page, so an access report of 3 MB spent a third of its time in
 * faults (bench/README.md, "vaern-bench-rights"). Allocations up to
 * 32 MiB come from the heap, and up to 64 MiB of free heap is kept per
 * arena. Every buffer that held personal data is wiped before it is
 * freed, so nothing readable stays in the kept memory. Call once, before
 * any thread starts.
 */
void heap_keep_freed(void);

#endif
