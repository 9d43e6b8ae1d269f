/*
 * api_console.c -- the staff console's request queue page (issue 20,
 * point 3): vault_request_queue's rows drawn by render_queue_*.
 */
#include "api_console.h"

#include "../calendar/calendar.h"
#include "../rights/rights.h"

struct queue_page {
	struct render_queue *q;
	long today;
};

static enum vaern_err
queue_row(void *arg, const struct vault_request *r)
{
	struct queue_page *p = arg;
	struct render_queue_row row = {
	        r->id,
	        rights_type_name(r->type),
	        rights_status_name(r->status),
	        r->channel,
	        cal_day_of(r->received_at),
	        r->due,
	        r->due - p->today,
	        r->extended_months > 0,
	        r->verified_at != INT64_MIN,
	};

	render_queue_row(p->q, &row);
	return VAERN_OK;
}

/* Walks the queue into p.q (render_queue_begin or _begin_table). */
static enum vaern_err
queue_walk(struct vault *v, const char *controller,
           const struct vault_request_filter *f, struct queue_page p,
           char **out, size_t *len, struct vaern_msg *msg)
{
	struct vault_request_filter plain = *f;
	enum vaern_err err;

	*out = NULL;
	*len = 0;
	if (p.q == NULL)
		return vaern_fail(msg, VAERN_E_NOMEM, "out of memory");
	plain.texts = 0;
	err = vault_request_queue(v, controller, &plain, queue_row, &p, msg);
	if (err != VAERN_OK) {
		render_queue_free(p.q);
		return err;
	}
	return render_queue_end(p.q, out, len, msg);
}

enum vaern_err
api_console_queue_html(struct vault *v, const char *controller,
                       const struct vault_request_filter *f, long today,
                       enum render_lang lang, char **out, size_t *len,
                       struct vaern_msg *msg)
{
	struct queue_page p = {render_queue_begin(controller, today, lang),
	                       today};

	return queue_walk(v, controller, f, p, out, len, msg);
}

enum vaern_err
api_console_queue_table(struct vault *v, const char *controller,
                        const struct vault_request_filter *f, long today,
                        enum render_lang lang, const char *link, char **out,
                        size_t *len, struct vaern_msg *msg)
{
	struct queue_page p = {render_queue_begin_table(link, today, lang),
	                       today};

	return queue_walk(v, controller, f, p, out, len, msg);
}
