/*
 * import_internal.h -- what cmd_import.c shares with cmd_import_map.c:
 * the command line, the mapping of the CSV file's columns. Not part of the
 * CLI's API.
 */
#ifndef VAERN_CLI_IMPORT_INTERNAL_H
#define VAERN_CLI_IMPORT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "../ids/ids.h"
#include "../vault/vault.h"
#include "csv.h"

#define IMPORT_MAP_MAX      (1024 * 1024)       /* bytes in a --map file */
#define IMPORT_ENTRIES_MAX  VAULT_FACTS_PER_DOC /* mapping entries */
#define IMPORT_HEADER_SHOWN 64 /* characters of a header in a message */

struct import_args {
	const char *controller;
	const char *map; /* --map FILE */
	char **columns;  /* --column HEADER=SPEC */
	int ncolumns;
	const char **purposes; /* --purpose P, in order */
	int npurposes;
	const char *source;       /* --source S, for every fact */
	const char *collected_at; /* --collected-at COLUMN|DATE */
	int skip_bad;             /* --skip-bad */
	unsigned long batch;      /* --batch N */
	unsigned long max_errors; /* --max-errors N; 0: all */
	char delimiter;           /* --delimiter C */
	const char *file;         /* FILE.csv, or - for stdin */
};

enum column_kind {
	COL_IGNORE,    /* left out */
	COL_FACT,      /* a fact of a category, under a purpose */
	COL_CONSENT,   /* when consent to a purpose was given; empty: not */
	COL_EVENT,     /* when an event happened; empty: not */
	COL_COLLECTED, /* when the row's facts were collected */
};

/* One mapping of a column; a column may have several (a category under
 * two purposes, say). Ids point into the policy, sources into argv or the
 * map file's text. */
struct entry {
	enum column_kind kind;
	size_t column;           /* index in the header */
	const char *category;    /* COL_FACT */
	enum id_type identifier; /* COL_FACT: ID_NONE if not an identifier */
	const char *purpose;     /* COL_FACT, COL_CONSENT */
	const char *source;      /* COL_CONSENT: how consent was recorded */
	const char *event;       /* COL_EVENT */
	long consent;            /* COL_FACT: the consent entry of its purpose,
	                            or -1: facts under a purpose the file has
	                            a consent column for are taken only from
	                            rows that consented */
};

struct mapping {
	const struct policy *policy; /* the controller's, owned by the vault */
	const char *file;            /* the CSV file's name, for messages */
	char **headers;              /* copies of the header fields */
	size_t ncolumns;
	int *named; /* per column: an explicit entry names it */
	struct entry entries[IMPORT_ENTRIES_MAX];
	size_t nentries;
	size_t nfacts, nconsents, nevents; /* entries of each kind */
	long collected;                    /* the COL_COLLECTED entry, or -1 */
	int64_t collected_default; /* --collected-at DATE; INT64_MIN: now */
	char *map_text; /* the --map file, which entries point into */
	int problems;   /* mapping errors printed */
};

/* Prints a header for a message: at most IMPORT_HEADER_SHOWN characters,
 * control characters and quotes shown as '?'. */
void import_put_header(const char *h);

/*
 * Builds the mapping from the header record: the --map file, then the
 * --column arguments, then the default for every column neither names (a
 * header that is a category, an event, or collected_at). Prints every
 * problem; returns EXIT_OK or the exit code.
 */
int import_build_mapping(struct mapping *m, const struct import_args *a,
                         const struct csv_record *header);

void import_mapping_free(struct mapping *m);

#endif
