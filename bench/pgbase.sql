-- pgbase.sql -- the baseline of scripts/bench-api-pg (issue 14): the
-- schema a DBA would build for the same personal data on plain
-- PostgreSQL with pgcrypto, and the same N people vaern-bench --load
-- makes (3 identifiers + 6 facts each, the same values).
--
--   psql -v n=20000 -v key=K -f bench/pgbase.sql
--
-- Identifiers: an HMAC-SHA256 blind index (hmac(value, key, 'sha256')),
-- unique per kind. Facts: pgp_sym_encrypt per fact (AES-256). Audit: one
-- row per read and per create, in the request's own transaction
-- (bench/bench_pgbase.c). No hash chain, no per-person key, no policy:
-- what vaern adds is not in it.
\set ON_ERROR_STOP 1
CREATE EXTENSION IF NOT EXISTS pgcrypto;
DROP TABLE IF EXISTS audit_log, person_fact, person_identifier, person;
CREATE TABLE person(
	person_id bigserial PRIMARY KEY,
	uid uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE person_identifier(
	kind text NOT NULL,
	digest bytea NOT NULL,
	person_id bigint NOT NULL REFERENCES person,
	PRIMARY KEY (kind, digest));
CREATE TABLE person_fact(
	fact_id bigserial PRIMARY KEY,
	person_id bigint NOT NULL REFERENCES person,
	category text NOT NULL,
	value bytea NOT NULL,
	collected_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX person_fact_person ON person_fact(person_id);
CREATE TABLE audit_log(
	audit_id bigserial PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	actor text NOT NULL,
	action text NOT NULL,
	purpose text NOT NULL,
	person_id bigint);
CREATE INDEX audit_log_person ON audit_log(person_id, at);

-- The people of bench/bench_vault.c's make_people: person<i>@example.dk.
INSERT INTO person(person_id) SELECT g FROM generate_series(0, :n - 1) g;
SELECT setval('person_person_id_seq', :n);
INSERT INTO person_identifier(kind, digest, person_id)
SELECT k, hmac(v, :'key', 'sha256'), g
FROM generate_series(0, :n - 1) g,
LATERAL (VALUES
	('cpr', lpad((g % 28 + 1)::text, 2, '0') || lpad((g % 12 + 1)::text, 2, '0')
	        || lpad((g % 100)::text, 2, '0') || '-' || lpad((g % 10000)::text, 4, '0')
	        || g::text),
	('email', 'person' || g || '@example.dk'),
	('phone', '+45' || (20000000 + g)::text)) AS x(k, v);
INSERT INTO person_fact(person_id, category, value)
SELECT g, c, pgp_sym_encrypt(v, :'key', 'cipher-algo=aes256')
FROM generate_series(0, :n - 1) g,
LATERAL (VALUES
	('cpr', lpad((g % 28 + 1)::text, 2, '0') || '0101-' || lpad((g % 10000)::text, 4, '0')),
	('email', 'person' || g || '@example.dk'),
	('phone', '+45' || (20000000 + g)::text),
	('name', 'Anna Hansen'),
	('address', 'Vestergade ' || g || ', 8000 Aarhus C'),
	('orders', 'order ' || g || ': 2 items, 499 DKK')) AS y(c, v);
VACUUM ANALYZE;
