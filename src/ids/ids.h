/*
 * ids.h -- normalise and validate personal and company identifiers.
 *
 * The identifier types vaern knows, the rules of each (Danish CPR, Swedish
 * personnummer, Danish CVR, Swedish organisationsnummer, e-mail, phone in
 * E.164, payment card), and their one normal form. The normal form is what
 * the vault blind-indexes, so two spellings of one identifier must
 * normalise to the same bytes.
 *
 * No function here allocates. Error messages say what is wrong with the
 * value ("check digit does not match") but never echo the value.
 */
#ifndef VAERN_IDS_H
#define VAERN_IDS_H

#include <stddef.h>

#include "../common/err.h"

enum id_type {
	ID_NONE = 0,
	ID_CPR,          /* Danish CPR number: DDMMYY-SSSS */
	ID_PERSONNUMMER, /* Swedish personnummer: YYYYMMDD-NNNN (12 digits) */
	ID_CVR,          /* Danish CVR company number: 8 digits, modulus 11 */
	ID_ORGNR,        /* Swedish organisationsnummer: NNNNNN-NNNN, Luhn */
	ID_EMAIL,        /* e-mail address, domain lower-cased */
	ID_PHONE,        /* phone number in E.164: +4512345678 */
	ID_CARD,         /* payment card number (PAN), Luhn; digits only */
	ID_USERNAME,     /* a login name: 1..64 printable characters, trimmed */
	ID_OTHER         /* a controller-specific key (customer number ...) */
};

/* Largest normal form of any identifier, terminating NUL included. */
#define ID_NORM_MAX 256

/* Largest input accepted by id_normalise (longer input is refused). */
#define ID_INPUT_MAX 254

/*
 * Returns the type named by name ("cpr", "personnummer", "cvr", "orgnr",
 * "email", "phone", "card", "username", "other"), or ID_NONE.
 */
enum id_type id_type_from_name(const char *name);

/* Returns the name of type as id_type_from_name accepts it, or "none". */
const char *id_type_name(enum id_type type);

/*
 * Validates value as an identifier of type and writes its normal form to
 * out (size outsz, at least ID_NORM_MAX), NUL-terminated.
 *
 * default_country ("DK", "SE" or NULL for DK) decides how a phone number
 * without a country code is read.
 *
 * Normal forms:
 *   cpr           "DDMMYY-SSSS"
 *   personnummer  "YYYYMMDD-NNNN" (century resolved; '+' means 100 or over,
 *                 relative to the reference date asof_days, see below)
 *   cvr           "NNNNNNNN"
 *   orgnr         "NNNNNN-NNNN"
 *   email         lower-cased (local part included)
 *   phone         "+CCNNNN..."
 *   card          digits only
 *   username, other: trimmed of surrounding white space
 *
 * asof_days is today's date as days since 1970-01-01 (calendar module),
 * used to resolve the century of a 10-digit personnummer. Returns VAERN_OK,
 * or VAERN_E_INVALID with msg saying why; out is then an empty string.
 */
enum vaern_err id_normalise(enum id_type type, const char *value,
                            const char *default_country, long asof_days,
                            char *out, size_t outsz, struct vaern_msg *msg)
        __attribute__((warn_unused_result, nonnull(2, 5)));

/*
 * Returns 1 if the NUL-terminated digits string passes the Luhn check,
 * 0 otherwise (also for an empty string or a non-digit).
 */
int id_luhn_ok(const char *digits) __attribute__((nonnull));

/*
 * Returns 1 if text contains a full payment card number, which vaern never
 * stores (SHOP-PAY-1, PCI DSS): 12 to 19 digits starting with 2-6 that pass
 * the Luhn check, written solid or in groups separated by a run of up to 8
 * separators (spaces, tabs, line breaks, dots, slashes, dashes,
 * underscores, no-break and other Unicode spaces and dashes). Only whole
 * groups count, so a window cut from a longer solid number (an order
 * number) is not taken for a card. About 1 in 20 random 12-19 digit
 * numbers starting 2-6 still passes: such free text is refused. The one
 * scanner for every text that enters vaern; see also id_refuse_card.
 */
int id_contains_card_number(const char *text) __attribute__((nonnull));

/*
 * VAERN_OK if text holds no full card number; otherwise VAERN_E_DENIED with
 * a message naming field (never the text): "<field> holds a full payment
 * card number, which vaern never stores (SHOP-PAY-1)".
 */
enum vaern_err id_refuse_card(const char *text, const char *field,
                              struct vaern_msg *msg)
        __attribute__((nonnull(1, 2), warn_unused_result));

#endif
