/*
 * traffic_delivery.c -- the answer to a court order (TEL-LOG-3): a
 * delivery shaped like ETSI TS 102 657's retained-data message (RDMessage:
 * rdHeader with the requestID of country, authorised organisation and
 * request number, the provider's cSPID and a timestamp; rdPayload with the
 * records), as JSON or XML, with the SHA-256 digest of the payload signed
 * by the controller's Ed25519 key so the police can check that it was not
 * altered.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "traffic_internal.h"

#define ORDER_FIELD_MAX 64
#define XML_CAP_MAX     ((size_t)1 << 31)

struct traffic_delivery {
	const struct traffic_store *st;
	char country[ORDER_FIELD_MAX + 1];
	char authority[ORDER_FIELD_MAX + 1];
	char reference[ORDER_FIELD_MAX + 1];
	char case_id[ORDER_FIELD_MAX + 1];
	char provider[ORDER_FIELD_MAX + 1];
	int64_t at;
	struct traffic_batch recs; /* wiped on free */
};

/* An order field: printable ASCII without spaces or markup characters,
 * 1..64 bytes (it is echoed in the delivery and the audit trail). */
static int
order_field_ok(const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > ORDER_FIELD_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f || strchr("<>&\"'\\", s[i]))
			return 0;
	return 1;
}

enum vaern_err
traffic_order_check(const struct traffic_order *o, struct vaern_msg *msg)
{
	static const char *const names[] = {"authority", "reference", "case",
	                                    "country"};
	const char *v[] = {o->authority, o->reference, o->case_id, o->country};

	for (size_t i = 0; i < 4; i++) {
		if (v[i] == NULL || v[i][0] == '\0')
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "%s: a court order names it "
			                  "(TEL-LOG-3)",
			                  names[i]);
		if (!order_field_ok(v[i]))
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "%s: 1 to 64 printable characters "
			                  "without spaces or <>&\"'\\",
			                  names[i]);
	}
	if (strlen(o->country) != 2 || o->country[0] < 'A' ||
	    o->country[0] > 'Z' || o->country[1] < 'A' || o->country[1] > 'Z')
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "country: an ISO 3166 code (DK)");
	return VAERN_OK;
}

struct traffic_delivery *
traffic_delivery_new(const struct traffic_store *st,
                     const struct traffic_order *o, int64_t now)
{
	struct traffic_delivery *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->st = st;
	snprintf(d->country, sizeof(d->country), "%s", o->country);
	snprintf(d->authority, sizeof(d->authority), "%s", o->authority);
	snprintf(d->reference, sizeof(d->reference), "%s", o->reference);
	snprintf(d->case_id, sizeof(d->case_id), "%s", o->case_id);
	snprintf(d->provider, sizeof(d->provider), "%s",
	         o->provider != NULL && order_field_ok(o->provider)
	                 ? o->provider
	                 : "unknown");
	d->at = now;
	return d;
}

enum vaern_err
traffic_delivery_add(struct traffic_delivery *d, const struct traffic_record *r)
{
	return traffic_batch_push(&d->recs, r);
}

size_t
traffic_delivery_count(const struct traffic_delivery *d)
{
	return d->recs.n;
}

void
traffic_delivery_free(struct traffic_delivery *d)
{
	if (d == NULL)
		return;
	traffic_batch_free(&d->recs);
	free(d);
}

/* ---- one record's fields, shared by JSON and XML ------------------------ */

struct rec_text {
	char start[21], end[21];
	char a[22], b[22], c[22]; /* "+" and up to 15 digits (room for 20) */
	char imsi[21], imei[21];
	char cell[2][32];
	char lat[2][16], lon[2][16];
	int azimuth[2];
};

static void
degrees(char out[16], int32_t e6)
{
	snprintf(out, 16, "%s%d.%06d", e6 < 0 ? "-" : "", abs(e6) / 1000000,
	         abs(e6) % 1000000);
}

static void
rec_text(const struct traffic_store *st, const struct traffic_record *r,
         struct rec_text *t)
{
	uint32_t cells[2] = {r->cell_start, r->cell_end};

	memset(t, 0, sizeof(*t));
	cal_format_instant(r->start, t->start);
	cal_format_instant(r->end, t->end);
	snprintf(t->a, sizeof(t->a), "+%llu", (unsigned long long)r->a);
	snprintf(t->b, sizeof(t->b), "+%llu", (unsigned long long)r->b);
	if (r->c != 0)
		snprintf(t->c, sizeof(t->c), "+%llu", (unsigned long long)r->c);
	snprintf(t->imsi, sizeof(t->imsi), "%0*llu", (int)r->imsi_digits,
	         (unsigned long long)r->imsi);
	snprintf(t->imei, sizeof(t->imei), "%015llu",
	         (unsigned long long)r->imei);
	for (int i = 0; i < 2; i++) {
		const struct traffic_cell *c = traffic_cell_at(st, cells[i]);

		if (c == NULL) {
			snprintf(t->cell[i], sizeof(t->cell[i]), "unknown");
			t->azimuth[i] = -1;
			continue;
		}
		traffic_cell_format(c, t->cell[i]);
		degrees(t->lat[i], c->lat_e6);
		degrees(t->lon[i], c->lon_e6);
		t->azimuth[i] = c->azimuth;
	}
}

/* ---- JSON ---------------------------------------------------------------- */

static json_t *
json_location(const struct rec_text *t, int i)
{
	json_t *o = json_pack("{s:s}", "globalCellID", t->cell[i]);

	if (o != NULL && t->lat[i][0] != '\0') {
		json_object_set_new(o, "latitude", json_string(t->lat[i]));
		json_object_set_new(o, "longitude", json_string(t->lon[i]));
		if (t->azimuth[i] >= 0)
			json_object_set_new(o, "azimuth",
			                    json_integer(t->azimuth[i]));
	}
	return o;
}

static json_t *
json_record(const struct traffic_store *st, const struct traffic_record *r,
            size_t n)
{
	struct rec_text t;
	json_t *parties, *o;

	rec_text(st, r, &t);
	parties = json_pack("[{s:s,s:s,s:s,s:s},{s:s,s:s}]", "partyRole",
	                    "originating-Party", "msISDN", t.a, "iMSI", t.imsi,
	                    "iMEI", t.imei, "partyRole", "terminating-Party",
	                    "msISDN", t.b);
	if (parties != NULL && r->c != 0)
		json_array_append_new(parties,
		                      json_pack("{s:s,s:s}", "partyRole",
		                                "forwarded-to-Party", "msISDN",
		                                t.c));
	o = json_pack("{s:I,s:s,s:o,s:{s:s,s:s},s:{s:o,s:o}}", "recordNumber",
	              (json_int_t)n, "eventInformation",
	              traffic_kind_name(r->kind), "partyInformation", parties,
	              "communicationTime", "startTime", t.start, "endTime",
	              t.end, "locationOfParty", "atStart", json_location(&t, 0),
	              "atEnd", json_location(&t, 1));
	sodium_memzero(&t, sizeof(t));
	return o;
}

static json_t *
json_message(const struct traffic_delivery *d)
{
	char at[21];
	json_t *recs = json_array(), *m;

	cal_format_instant(d->at, at);
	for (size_t i = 0; recs != NULL && i < d->recs.n; i++)
		if (json_array_append_new(
		            recs,
		            json_record(d->st, &d->recs.recs[i], i + 1)) != 0) {
			json_decref(recs);
			return NULL;
		}
	m = json_pack("{s:s,s:{s:{s:s,s:s,s:s},s:s,s:s},s:{s:{s:s,s:s,s:I,"
	              "s:{s:o}}}}",
	              "version", "ETSI TS 102 657 (shape)", "rdHeader",
	              "requestID", "countryCode", d->country,
	              "authorisedOrganisationID", d->authority, "requestNumber",
	              d->reference, "cSPID", d->provider, "timeStampUTC", at,
	              "rdPayload", "responsePayload", "caseReference",
	              d->case_id, "responseStatus", "responseComplete",
	              "numberOfRecords", (json_int_t)d->recs.n,
	              "responseRecords", "telephonyRecords", recs);
	return m;
}

/* The payload's canonical bytes: compact, keys sorted, ASCII escapes. */
#define JSON_CANON (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)

static void
to_hex(char *out, const unsigned char *in, size_t n)
{
	sodium_bin2hex(out, n * 2 + 1, in, n);
}

void
traffic_sign_pubkey(const unsigned char seed[TRAFFIC_SIGN_SEED_BYTES],
                    unsigned char pk[TRAFFIC_PUBKEY_BYTES])
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES];

	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(sk, sizeof(sk));
}

/* Digest of payload and its signature under seed, as hex. */
static void
sign_payload(const unsigned char *payload, size_t len,
             const unsigned char *seed,
             unsigned char digest[TRAFFIC_DIGEST_BYTES],
             char dhex[TRAFFIC_DIGEST_BYTES * 2 + 1],
             char shex[TRAFFIC_SIG_BYTES * 2 + 1],
             char phex[TRAFFIC_PUBKEY_BYTES * 2 + 1])
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES], pk[TRAFFIC_PUBKEY_BYTES];
	unsigned char sig[TRAFFIC_SIG_BYTES];

	crypto_hash_sha256(digest, payload, len);
	crypto_sign_seed_keypair(pk, sk, seed);
	crypto_sign_detached(sig, NULL, digest, TRAFFIC_DIGEST_BYTES, sk);
	sodium_memzero(sk, sizeof(sk));
	to_hex(dhex, digest, TRAFFIC_DIGEST_BYTES);
	to_hex(shex, sig, TRAFFIC_SIG_BYTES);
	to_hex(phex, pk, TRAFFIC_PUBKEY_BYTES);
}

static enum vaern_err
finish_json(struct traffic_delivery *d, const unsigned char *seed, char **out,
            size_t *outlen, unsigned char *digest)
{
	char dhex[TRAFFIC_DIGEST_BYTES * 2 + 1],
	        shex[TRAFFIC_SIG_BYTES * 2 + 1];
	char phex[TRAFFIC_PUBKEY_BYTES * 2 + 1];
	json_t *m = json_message(d), *doc;
	char *canon, *text;

	if (m == NULL)
		return VAERN_E_NOMEM;
	canon = json_dumps(m, JSON_CANON);
	if (canon == NULL) {
		json_decref(m);
		return VAERN_E_NOMEM;
	}
	sign_payload((const unsigned char *)canon, strlen(canon), seed, digest,
	             dhex, shex, phex);
	sodium_memzero(canon, strlen(canon));
	free(canon);
	doc = json_pack(
	        "{s:o,s:{s:s,s:s,s:s,s:s,s:s,s:s}}", "RDMessage", m,
	        "integrity", "payload",
	        "RDMessage as JSON: compact, keys sorted, ASCII escapes",
	        "digestAlgorithm", "SHA-256", "payloadDigest", dhex,
	        "signatureAlgorithm", "Ed25519 over the digest", "signature",
	        shex, "publicKey", phex);
	if (doc == NULL)
		return VAERN_E_NOMEM;
	text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	if (text == NULL)
		return VAERN_E_NOMEM;
	*out = text;
	*outlen = strlen(text);
	return VAERN_OK;
}

/* ---- XML ----------------------------------------------------------------- */

struct xbuf {
	char *p;
	size_t n, cap;
	int nomem;
};

static void xadd(struct xbuf *x, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void
xadd(struct xbuf *x, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (x->nomem)
		return;
	for (;;) {
		va_start(ap, fmt);
		w = vsnprintf(x->p + x->n, x->cap - x->n, fmt, ap);
		va_end(ap);
		if (w < 0) {
			x->nomem = 1;
			return;
		}
		if ((size_t)w < x->cap - x->n) {
			x->n += (size_t)w;
			return;
		}
		{
			size_t cap = (x->cap ? x->cap * 2 : 4096) + (size_t)w;
			char *b;

			if (cap > XML_CAP_MAX ||
			    (b = sodium_malloc(cap)) == NULL) {
				x->nomem = 1;
				return;
			}
			if (x->n > 0)
				memcpy(b, x->p, x->n);
			sodium_free(x->p);
			x->p = b;
			x->cap = cap;
		}
	}
}

static void
xml_location(struct xbuf *x, const char *tag, const struct rec_text *t, int i)
{
	xadd(x, "<%s><globalCellID>%s</globalCellID>", tag, t->cell[i]);
	if (t->lat[i][0] != '\0') {
		xadd(x, "<latitude>%s</latitude><longitude>%s</longitude>",
		     t->lat[i], t->lon[i]);
		if (t->azimuth[i] >= 0)
			xadd(x, "<azimuth>%d</azimuth>", t->azimuth[i]);
	}
	xadd(x, "</%s>", tag);
}

static enum vaern_err
finish_xml(struct traffic_delivery *d, const unsigned char *seed, char **out,
           size_t *outlen, unsigned char *digest)
{
	char dhex[TRAFFIC_DIGEST_BYTES * 2 + 1],
	        shex[TRAFFIC_SIG_BYTES * 2 + 1];
	char phex[TRAFFIC_PUBKEY_BYTES * 2 + 1], at[21];
	struct xbuf x = {0};
	size_t start;
	char *text;

	cal_format_instant(d->at, at);
	xadd(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<RDDelivery>\n");
	start = x.n;
	xadd(&x,
	     "<RDMessage version=\"ETSI TS 102 657 (shape)\"><rdHeader>"
	     "<requestID><countryCode>%s</countryCode>"
	     "<authorisedOrganisationID>%s</authorisedOrganisationID>"
	     "<requestNumber>%s</requestNumber></requestID>"
	     "<cSPID>%s</cSPID><timeStampUTC>%s</timeStampUTC></rdHeader>"
	     "<rdPayload><responsePayload><caseReference>%s</caseReference>"
	     "<responseStatus>responseComplete</responseStatus>"
	     "<numberOfRecords>%zu</numberOfRecords><responseRecords>",
	     d->country, d->authority, d->reference, d->provider, at,
	     d->case_id, d->recs.n);
	for (size_t i = 0; i < d->recs.n; i++) {
		const struct traffic_record *r = &d->recs.recs[i];
		struct rec_text t;

		rec_text(d->st, r, &t);
		xadd(&x,
		     "<telephonyRecord recordNumber=\"%zu\">"
		     "<eventInformation>%s</eventInformation>"
		     "<partyInformation><partyRole>originating-Party</"
		     "partyRole>"
		     "<msISDN>%s</msISDN><iMSI>%s</iMSI><iMEI>%s</iMEI>"
		     "</partyInformation><partyInformation><partyRole>"
		     "terminating-Party</partyRole><msISDN>%s</msISDN>"
		     "</partyInformation>",
		     i + 1, traffic_kind_name(r->kind), t.a, t.imsi, t.imei,
		     t.b);
		if (r->c != 0)
			xadd(&x,
			     "<partyInformation><partyRole>forwarded-to-Party"
			     "</partyRole><msISDN>%s</msISDN>"
			     "</partyInformation>",
			     t.c);
		xadd(&x,
		     "<communicationTime><startTime>%s</startTime>"
		     "<endTime>%s</endTime></communicationTime>"
		     "<locationOfParty>",
		     t.start, t.end);
		xml_location(&x, "atStart", &t, 0);
		xml_location(&x, "atEnd", &t, 1);
		xadd(&x, "</locationOfParty></telephonyRecord>");
		sodium_memzero(&t, sizeof(t));
	}
	xadd(&x, "</responseRecords></responsePayload></rdPayload>"
	         "</RDMessage>");
	if (x.nomem) {
		sodium_free(x.p);
		return VAERN_E_NOMEM;
	}
	sign_payload((const unsigned char *)x.p + start, x.n - start, seed,
	             digest, dhex, shex, phex);
	xadd(&x,
	     "\n<integrity><payload>the bytes from &lt;RDMessage to "
	     "&lt;/RDMessage&gt;</payload>"
	     "<digestAlgorithm>SHA-256</digestAlgorithm>"
	     "<payloadDigest>%s</payloadDigest>"
	     "<signatureAlgorithm>Ed25519 over the digest</signatureAlgorithm>"
	     "<signature>%s</signature><publicKey>%s</publicKey></integrity>\n"
	     "</RDDelivery>\n",
	     dhex, shex, phex);
	if (x.nomem) {
		sodium_free(x.p);
		return VAERN_E_NOMEM;
	}
	text = malloc(x.n + 1);
	if (text == NULL) {
		sodium_free(x.p);
		return VAERN_E_NOMEM;
	}
	memcpy(text, x.p, x.n);
	text[x.n] = '\0';
	*out = text;
	*outlen = x.n;
	sodium_free(x.p); /* wipes */
	return VAERN_OK;
}

enum vaern_err
traffic_delivery_finish(struct traffic_delivery *d, int xml,
                        const unsigned char seed[TRAFFIC_SIGN_SEED_BYTES],
                        char **out, size_t *outlen,
                        unsigned char digest[TRAFFIC_DIGEST_BYTES],
                        struct vaern_msg *msg)
{
	enum vaern_err err = xml ? finish_xml(d, seed, out, outlen, digest)
	                         : finish_json(d, seed, out, outlen, digest);

	if (err != VAERN_OK)
		return vaern_fail(msg, err, "cannot build the delivery");
	return VAERN_OK;
}

/* ---- verification ---------------------------------------------------------
 */

/* The hex text between <tag> and </tag> in text, into bin (n bytes). */
static int
xml_hex(const char *text, const char *tag, unsigned char *bin, size_t n)
{
	char open[40], close[40];
	const char *s, *e;
	size_t got;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	s = strstr(text, open);
	if (s == NULL)
		return -1;
	s += strlen(open);
	e = strstr(s, close);
	if (e == NULL ||
	    sodium_hex2bin(bin, n, s, (size_t)(e - s), NULL, &got, NULL) != 0 ||
	    got != n)
		return -1;
	return 0;
}

static int
json_hex(json_t *o, const char *key, unsigned char *bin, size_t n)
{
	const char *s = json_string_value(json_object_get(o, key));
	size_t got;

	if (s == NULL ||
	    sodium_hex2bin(bin, n, s, strlen(s), NULL, &got, NULL) != 0 ||
	    got != n)
		return -1;
	return 0;
}

enum vaern_err
traffic_delivery_verify(const char *text, size_t len,
                        const unsigned char pubkey[TRAFFIC_PUBKEY_BYTES],
                        struct vaern_msg *msg)
{
	unsigned char want[TRAFFIC_DIGEST_BYTES], got[TRAFFIC_DIGEST_BYTES];
	unsigned char sig[TRAFFIC_SIG_BYTES];
	size_t i = 0;

	while (i < len && (text[i] == ' ' || text[i] == '\n'))
		i++;
	if (i < len && text[i] == '<') {
		const char *s = strstr(text, "<RDMessage");
		const char *e = strstr(text, "</RDMessage>");

		if (s == NULL || e == NULL || e < s ||
		    xml_hex(text, "payloadDigest", want, sizeof(want)) != 0 ||
		    xml_hex(text, "signature", sig, sizeof(sig)) != 0)
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "not a delivery (XML)");
		e += strlen("</RDMessage>");
		crypto_hash_sha256(got, (const unsigned char *)s,
		                   (size_t)(e - s));
	} else {
		json_error_t je;
		json_t *doc = json_loadb(text, len, 0, &je), *in;
		char *canon;

		in = json_object_get(doc, "integrity");
		if (doc == NULL ||
		    !json_is_object(json_object_get(doc, "RDMessage")) ||
		    json_hex(in, "payloadDigest", want, sizeof(want)) != 0 ||
		    json_hex(in, "signature", sig, sizeof(sig)) != 0) {
			json_decref(doc);
			return vaern_fail(msg, VAERN_E_INVALID,
			                  "not a delivery (JSON)");
		}
		canon = json_dumps(json_object_get(doc, "RDMessage"),
		                   JSON_CANON);
		json_decref(doc);
		if (canon == NULL)
			return VAERN_E_NOMEM;
		crypto_hash_sha256(got, (unsigned char *)canon, strlen(canon));
		sodium_memzero(canon, strlen(canon));
		free(canon);
	}
	if (sodium_memcmp(want, got, sizeof(want)) != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the payload does not match its digest: "
		                  "altered");
	if (crypto_sign_verify_detached(sig, want, sizeof(want), pubkey) != 0)
		return vaern_fail(msg, VAERN_E_INVALID,
		                  "the signature does not verify under this "
		                  "controller's key");
	return VAERN_OK;
}
