/*
 * cmd_id.c -- vaern id check TYPE VALUE: validate and normalise.
 */
#include <stdio.h>
#include <string.h>

#include "../calendar/calendar.h"
#include "../ids/ids.h"
#include "cli.h"

const char cli_id_usage[] = "usage: vaern id check TYPE VALUE|-\n"
                            "TYPE: cpr personnummer cvr orgnr email "
                            "phone card username other\n"
                            "VALUE - reads the value from standard input "
                            "(keeps it out of ps).";

int
cmd_id(int argc, char **argv)
{
	struct vaern_msg msg = {{0}};
	char norm[ID_NORM_MAX], buf[ID_INPUT_MAX + 2];
	const char *value;
	enum id_type type;
	int rc;

	if (argc != 4 || strcmp(argv[1], "check") != 0)
		return cli_usage("id", cli_id_usage);
	if ((type = id_type_from_name(argv[2])) == ID_NONE)
		return cli_usage("id", "unknown identifier type (cpr "
		                       "personnummer cvr orgnr email phone "
		                       "card username other)");
	value = argv[3];
	if (strcmp(value, "-") == 0) {
		size_t n;

		if (fgets(buf, sizeof(buf), stdin) == NULL)
			return cli_usage("id", "no value on standard input");
		n = strlen(buf);
		if (n > 0 && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		value = buf;
	}
	if (id_normalise(type, value, NULL, clock_today(), norm, sizeof(norm),
	                 &msg) != VAERN_OK) {
		fprintf(stderr, "vaern id check: not a valid %s: %s\n",
		        id_type_name(type), msg.text);
		rc = EXIT_REFUSED;
	} else {
		puts(norm);
		rc = EXIT_OK;
	}
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(norm, sizeof(norm));
	return rc;
}
