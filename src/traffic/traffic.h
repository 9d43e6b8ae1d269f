/*
 * traffic.h -- the telecom retained-data store (issue 18; TEL-LOG-1..3,
 * TEL-CAT-2): where the operator's call, SMS and MMS records are kept one
 * year, sealed by day, and read only for a court order.
 *
 * Records are not subjects: no person row per record, nothing links a
 * record to the vault. They live in DATA/traffic/<controller>/:
 *
 *   cells.csv          the reference data of cells and masts (not
 *                      personal): "mcc,mnc,lac,ci,lat,lon,azimuth", a
 *                      cell's index is its row and never changes
 *   YYYY-MM-DD.day     one day partition (by the record's start, UTC):
 *                      a header, then segments of blocks of up to
 *                      TRAFFIC_BLOCK_RECS records packed in at most
 *                      TRAFFIC_RECORD_BYTES each, sealed under the day's
 *                      own random data key, with Bloom filters of keyed
 *                      hashes (SipHash under a per-day key derived from
 *                      the day key) of their numbers, IMSIs, IMEIs and
 *                      cells laid out by word: the per-day index. Nothing
 *                      in clear. Each segment names its layout
 *                      (enum traffic_layout); a day may hold both.
 *
 * The day keys are not in the files: they are kept by struct traffic_keys
 * (the vault's keystore, wrapped under the master key: a rotation
 * re-wraps them, a keystore backup holds them). A day is dropped whole:
 * its key destroyed first, durably, then its file unlinked -- in time
 * independent of how many records it holds (TEL-LOG-1).
 *
 * Thread safety: a traffic_store is used by one thread at a time; two
 * processes may read while one writes (appends are whole blocks).
 */
#ifndef VAERN_TRAFFIC_H
#define VAERN_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include "../calendar/calendar.h"
#include "../common/err.h"

#define TRAFFIC_DIR            "traffic"
#define TRAFFIC_KEY_BYTES      32
#define TRAFFIC_RECORD_BYTES   48         /* one packed record, at most */
#define TRAFFIC_BLOCK_RECS     512        /* records in a full block */
#define TRAFFIC_SEG_BLOCKS_MAX 512        /* blocks of one index segment */
#define TRAFFIC_BATCH_MAX      5000000    /* records in one import batch */
#define TRAFFIC_LINE_MAX       1024       /* bytes of one CSV or NDJSON line */
#define TRAFFIC_CELLS_MAX      (1u << 24) /* cells in the reference */
#define TRAFFIC_AREA_CELLS     4096       /* cells one area query may name */
#define TRAFFIC_ERRORS_MAX     20         /* bad records reported per batch */
#define TRAFFIC_RANGE_MAX      (366 * 86400) /* seconds a query may span */

/* The kinds of record (BEK 988/2006 §4; ETSI TS 102 657). */
enum traffic_kind {
	TRAFFIC_CALL = 0,
	TRAFFIC_SMS,
	TRAFFIC_MMS,
	TRAFFIC_SMS_RECEIPT, /* delivery receipt of an SMS */
	TRAFFIC_MMS_RECEIPT, /* delivery receipt of an MMS */
	TRAFFIC_KINDS
};

/* The name of a kind ("call", "sms", ...). */
const char *traffic_kind_name(enum traffic_kind k);

/*
 * One record, decoded. Numbers are E.164 digits without '+' as an integer
 * (the first digit is never 0), IMSI and IMEI their digits as an integer.
 * Never any content.
 */
struct traffic_record {
	uint8_t kind;        /* enum traffic_kind */
	uint8_t imsi_digits; /* 14 or 15 */
	int64_t start, end;  /* seconds since the epoch, start <= end */
	uint64_t a, b;       /* A-number (calling), B-number (called) */
	uint64_t c;          /* C-number (forwarded-to), 0 if none */
	uint64_t imsi, imei; /* the served subscriber's SIM and handset */
	uint32_t cell_start; /* serving cell at start: index in cells */
	uint32_t cell_end;   /* serving cell at end */
};

/* A cell and its mast (reference data). */
struct traffic_cell {
	uint16_t mcc, mnc;
	uint8_t mnc_digits; /* 2 or 3 */
	uint32_t lac;       /* LAC or TAC */
	uint32_t ci;        /* cell id (ECI for LTE) */
	int32_t lat_e6;     /* latitude in millionths of a degree */
	int32_t lon_e6;     /* longitude in millionths of a degree */
	int16_t azimuth;    /* 0..359 degrees, -1 omnidirectional */
};

struct traffic_store;

/*
 * Where a store's day keys are kept: the keystore, through the vault
 * (traffic_access.c); the benchmark and the unit tests keep them in
 * memory.
 */
struct traffic_keys {
	/* The data key (TRAFFIC_KEY_BYTES) of controller's day into key;
	 * if the day has none: with create, a new random one, kept durably
	 * before this returns; else VAERN_E_NOTFOUND. */
	enum vaern_err (*get)(void *arg, const char *controller, long day,
	                      int create, unsigned char *key,
	                      struct vaern_msg *msg);
	/* WARNING: crypto-erases. Destroys the keys of controller's days
	 * before day, durably before it returns (TEL-LOG-1). */
	enum vaern_err (*drop_before)(void *arg, const char *controller,
	                              long day, struct vaern_msg *msg);
	void *arg;
};

/*
 * Opens (creating the directory if need be) the store of controller in
 * data_dir, its day keys kept by keys (copied; keys->arg must outlive the
 * store). keep is how long a day is kept after it ends (the policy's
 * `traffic: period`). On failure *out is NULL.
 */
enum vaern_err traffic_open(const char *data_dir, const char *controller,
                            const struct traffic_keys *keys, struct period keep,
                            struct traffic_store **out, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3, 5)));

/*
 * Sets how many full blocks one index segment of st's appends holds, 1 to
 * TRAFFIC_SEG_BLOCKS_MAX (the default). 1 writes the layout from before
 * the segments -- a filter beside each block, which a query for one key
 * reads block by block -- and is there for the benchmark's baseline.
 * Readers take any.
 */
void traffic_set_segment_blocks(struct traffic_store *st, unsigned blocks)
        __attribute__((nonnull(1)));

/* The layouts of a segment; readers take both, in any day. */
enum traffic_layout {
	/* 48-byte records; one filter word per key, 9.1 bits a key: about
	 * 0.8% of the blocks open for nothing. What days of 2026 before
	 * issue 18's second round hold. */
	TRAFFIC_LAYOUT_V2 = 2,
	/* 43-byte records (bit-packed); two filter words per key, 18 bits
	 * a key: about 0.01% of the blocks open for nothing. */
	TRAFFIC_LAYOUT_V3 = 3
};

/*
 * Sets the layout st's appends write (TRAFFIC_LAYOUT_V3 by default); the
 * older one is there for the tests that read it and for the benchmark's
 * baseline.
 */
void traffic_set_layout(struct traffic_store *st, enum traffic_layout layout)
        __attribute__((nonnull(1)));

/* Closes st and wipes its keys. Accepts NULL. */
void traffic_close(struct traffic_store *st);

/* ---- reference data: cells and masts ------------------------------------ */

/*
 * Merges the cells of the CSV file path (header "mcc,mnc,lac,ci,lat,lon,
 * azimuth") into the reference: a known cell keeps its index (its mast
 * data replaced), a new one is appended. All or nothing: a bad row is
 * named by its line and nothing changes. *added gets the new cells.
 */
enum vaern_err traffic_cells_load(struct traffic_store *st, const char *path,
                                  size_t *added, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* The cell at index i, or NULL. */
const struct traffic_cell *traffic_cell_at(const struct traffic_store *st,
                                           uint32_t i);

/* Parses "MCC-MNC-LAC-CI" and finds it: VAERN_OK and *index, or
 * VAERN_E_INVALID (malformed) / VAERN_E_NOTFOUND (not in the reference). */
enum vaern_err traffic_cell_find(const struct traffic_store *st,
                                 const char *text, uint32_t *index)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* Writes "MCC-MNC-LAC-CI" of c into out (32 bytes). */
void traffic_cell_format(const struct traffic_cell *c, char out[32]);

/* ---- records: parsing and validation ------------------------------------ */

enum traffic_format { TRAFFIC_CSV, TRAFFIC_NDJSON, TRAFFIC_BINARY };

/*
 * The compact binary batch (docs/traffic.md): TRAFFIC_BIN_MAGIC, then
 * records of TRAFFIC_BIN_RECORD bytes each, little-endian: kind (u8),
 * flags (u8: 0x01 a C-number, 0x02 an end cell, 0x04 a 15-digit IMSI,
 * 0x08 / 0x10 the start / end cell's MNC has 3 digits), 6 bytes zero,
 * start and end (i64, seconds since 1970 UTC), A, B, C, IMSI, IMEI (u64:
 * their digits as a number, the numbers without '+'), the start and end
 * cells (each u16 MCC, u16 MNC, u32 LAC/TAC, u32 cell id).
 */
#define TRAFFIC_BIN_MAGIC  "VTRBIN01"
#define TRAFFIC_BIN_HEADER 8
#define TRAFFIC_BIN_RECORD 88

/* A growing list of records, at most TRAFFIC_BATCH_MAX. */
struct traffic_batch {
	struct traffic_record *recs;
	size_t n, cap;
};

/* A bad record: its position (1-based line; in a binary batch, the
 * 1-based record number) and what is wrong (a field name and a rule,
 * never the value). */
struct traffic_bad {
	size_t line;
	char what[160];
};

struct traffic_errors {
	struct traffic_bad items[TRAFFIC_ERRORS_MAX];
	size_t count; /* bad records found (items holds the first ones) */
};

/*
 * Parses and validates the records in text (len bytes; CSV with the
 * header "kind,start,end,a,b,c,imsi,imei,start_cell,end_cell", or NDJSON
 * with those keys; docs/traffic.md). Numbers must be E.164 ("+" and 6..15
 * digits), the IMSI 14..15 digits with a plausible MCC, the IMEI 15 digits
 * with its Luhn check digit, start <= end <= now, both cells known. Good
 * records are appended to out; each bad one is counted in errs. Returns
 * VAERN_OK (even with bad records: the caller decides, all or nothing
 * or skipping), VAERN_E_LIMIT past TRAFFIC_BATCH_MAX, VAERN_E_NOMEM; for
 * a binary batch (TRAFFIC_BINARY) also VAERN_E_INVALID, msg naming the
 * record, for a batch without its header or cut short inside a record:
 * then nothing is parsed, skipping or not.
 */
enum vaern_err traffic_parse(const struct traffic_store *st,
                             enum traffic_format fmt, const char *text,
                             size_t len, int64_t now, struct traffic_batch *out,
                             struct traffic_errors *errs, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 6, 7)));

/* Reads the file path ("-": stdin) whole, at most max bytes, into a new
 * NUL-terminated buffer the caller frees. */
enum vaern_err traffic_read_file(const char *path, size_t max, char **out,
                                 size_t *len, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));

/* Frees the records of b (wiped) and empties it. */
void traffic_batch_free(struct traffic_batch *b);

/* Number parsing shared with the query: E.164 "+DIGITS", IMSI, IMEI. */
enum vaern_err traffic_parse_msisdn(const char *s, uint64_t *out);
enum vaern_err traffic_parse_imsi(const char *s, uint64_t *out,
                                  uint8_t *digits);
enum vaern_err traffic_parse_imei(const char *s, uint64_t *out);

/* ---- the store: append, plan, sweep ------------------------------------- */

/*
 * Stores the n records (validated by traffic_parse) in their day
 * partitions, creating a day (and its key) as needed. All or nothing: on
 * any failure every partition is cut back to what it held before and a
 * day created by this call is removed.
 */
enum vaern_err traffic_append(struct traffic_store *st,
                              const struct traffic_record *recs, size_t n,
                              struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 4)));

/* One day partition as the plan shows it. */
struct traffic_day {
	long day; /* days since the epoch (UTC) */
	uint64_t records;
	uint64_t bytes; /* on disk, index included */
	long expires;   /* the first day it may be swept (TEL-LOG-1) */
	int due;        /* 1 if the sweep at now deletes it */
};

/*
 * Calls fn for each day partition, oldest first, as at now. Stops at the
 * first error fn returns.
 */
enum vaern_err traffic_plan(struct traffic_store *st, int64_t now,
                            enum vaern_err (*fn)(void *arg,
                                                 const struct traffic_day *d),
                            void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/*
 * Deletes every day that is a full `keep` old at now (TEL-LOG-1): the
 * keys of all such days destroyed first (keys->drop_before, durable),
 * then their files unlinked. *days and *records get what went.
 */
enum vaern_err traffic_sweep(struct traffic_store *st, int64_t now,
                             uint64_t *days, uint64_t *records,
                             struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));

/* ---- the court-order query (TEL-LOG-3) ---------------------------------- */

enum traffic_target {
	TRAFFIC_BY_MSISDN, /* A-, B- or C-number */
	TRAFFIC_BY_IMSI,
	TRAFFIC_BY_IMEI,
	TRAFFIC_BY_CELLS /* the cells of an area */
};

struct traffic_query {
	enum traffic_target target;
	uint64_t value;        /* the identifier (not TRAFFIC_BY_CELLS) */
	const uint32_t *cells; /* TRAFFIC_BY_CELLS: cell indexes */
	size_t ncells;         /* 1..TRAFFIC_AREA_CELLS */
	int64_t from, to;      /* [from, to): records starting in it */
};

/*
 * Finds the cells whose mast is inside the box (latitudes and longitudes
 * in millionths of a degree, inclusive). Writes at most max indexes to
 * out; *n gets how many matched (more than max: VAERN_E_LIMIT).
 */
enum vaern_err traffic_cells_in_area(const struct traffic_store *st,
                                     int32_t lat_min, int32_t lon_min,
                                     int32_t lat_max, int32_t lon_max,
                                     uint32_t *out, size_t max, size_t *n)
        __attribute__((warn_unused_result, nonnull(1, 6, 8)));

/*
 * Calls fn with each record matching q, day by day, in file order.
 * WARNING: r is decrypted personal data, valid during the call only; the
 * caller releases it only under a court order and audits the release.
 * Refuses a range longer than TRAFFIC_RANGE_MAX or reversed
 * (VAERN_E_INVALID).
 */
enum vaern_err
traffic_query(struct traffic_store *st, const struct traffic_query *q,
              enum vaern_err (*fn)(void *arg, const struct traffic_record *r),
              void *arg, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 2, 3)));

/* ---- the delivery (ETSI TS 102 657 shape) ------------------------------- */

#define TRAFFIC_SIGN_SEED_BYTES 32
#define TRAFFIC_PUBKEY_BYTES    32
#define TRAFFIC_SIG_BYTES       64
#define TRAFFIC_DIGEST_BYTES    32 /* SHA-256 */

/* Who asked, under which order (all printable ASCII, 1..64 bytes). */
struct traffic_order {
	const char *country;   /* ISO 3166 alpha-2 of the requesting state */
	const char *authority; /* authorisedOrganisationID */
	const char *reference; /* the court order's reference: requestNumber */
	const char *case_id;   /* the case */
	const char *provider;  /* cSPID: the controller's registration */
};

/* Checks the order's fields: VAERN_E_INVALID naming the field. */
enum vaern_err traffic_order_check(const struct traffic_order *o,
                                   struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1)));

struct traffic_delivery;

/* Starts a delivery for order o at now. NULL when out of memory. */
struct traffic_delivery *traffic_delivery_new(const struct traffic_store *st,
                                              const struct traffic_order *o,
                                              int64_t now);

/* Adds one record. */
enum vaern_err traffic_delivery_add(struct traffic_delivery *d,
                                    const struct traffic_record *r)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Records added so far. */
size_t traffic_delivery_count(const struct traffic_delivery *d);

/*
 * Renders the delivery as JSON (xml == 0) or XML, signs the SHA-256 of
 * its payload with the Ed25519 key of seed, and hands the text over
 * (*out, *outlen; the caller wipes and frees it). digest gets the digest.
 * The payload is, for JSON, the member "RDMessage" serialised compact
 * with sorted keys and ASCII escapes; for XML, the bytes from "<RDMessage"
 * to "</RDMessage>" as written.
 */
enum vaern_err
traffic_delivery_finish(struct traffic_delivery *d, int xml,
                        const unsigned char seed[TRAFFIC_SIGN_SEED_BYTES],
                        char **out, size_t *outlen,
                        unsigned char digest[TRAFFIC_DIGEST_BYTES],
                        struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3, 4, 5, 6)));

/* Frees d, wiping the records it holds. Accepts NULL. */
void traffic_delivery_free(struct traffic_delivery *d);

/*
 * Checks a delivery text (JSON or XML as traffic_delivery_finish wrote
 * it): recomputes the payload digest, compares it with the one written
 * and checks the signature under pubkey. VAERN_OK, or VAERN_E_INVALID
 * (not a delivery, altered, or signed by another key; msg says which).
 */
enum vaern_err
traffic_delivery_verify(const char *text, size_t len,
                        const unsigned char pubkey[TRAFFIC_PUBKEY_BYTES],
                        struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(1, 3)));

/* The Ed25519 public key of seed. */
void traffic_sign_pubkey(const unsigned char seed[TRAFFIC_SIGN_SEED_BYTES],
                         unsigned char pk[TRAFFIC_PUBKEY_BYTES]);

#endif
