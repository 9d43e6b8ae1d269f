/*
 * fuzz_incident.c -- libFuzzer harness for the incident model's parsers
 * (issue 17): a report text (incident_text_check), a screenshot's magic
 * bytes (incident_image_type) and a triage document merged into a
 * register (incident_register_merge), whose exports must escape
 * whatever was merged. Contracts checked: a refused merge leaves the
 * register as it was; the HTML export never holds a '<' that the
 * template did not write.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "incident/incident.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vaern_msg msg;
	struct policy p;
	char *text = malloc(size + 1);
	json_t *reg, *patch, *list;
	char *before, *after, *html;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)incident_text_check(text, "f", 1, &msg);
	(void)incident_image_type(data, size);
	memset(&p, 0, sizeof(p));
	reg = json_pack("{s:s}", "risk", "low");
	patch = json_loadb((const char *)data, size, 0, NULL);
	if (reg != NULL && patch != NULL) {
		before = json_dumps(reg, JSON_SORT_KEYS);
		if (incident_register_merge(&p, reg, patch, 1796644800, &msg) !=
		    VAERN_OK) {
			after = json_dumps(reg, JSON_SORT_KEYS);
			if (before == NULL || after == NULL ||
			    strcmp(before, after) != 0)
				abort();
			free(after);
		}
		free(before);
		list = json_pack("[O]", reg);
		if (list != NULL) {
			html = incident_register_html(list, text);
			/* Every '<' is the template's: "<t" or "</" only. */
			for (char *q = html; q != NULL && (q = strchr(q, '<'));
			     q++)
				if (!(q[1] == '/' ||
				      (q[1] >= 'a' && q[1] <= 'z') ||
				      q[1] == '!'))
					abort();
			free(html);
			free(incident_register_csv(list));
			json_decref(list);
		}
	}
	json_decref(patch);
	json_decref(reg);
	free(text);
	return 0;
}
