/*
 * console.h -- the staff console (issue 20): the data-protection
 * officer's and customer service's daily work in a browser, served by
 * `vaern serve` beside the API and the portal (docs/console.md). This
 * header is the module's whole API: the handlers the server's route
 * table names (src/api/api.c). The framework the pages share is
 * console_internal.h.
 *
 *   GET  /console-assets/console.css             the one style sheet
 *   GET  /console/{controller}                   to the queue or login
 *   GET  /console/{controller}/login             name, password, code
 *   POST /console/{controller}/login             a session (or the
 *                                                first login's QR)
 *   POST /console/{controller}/logout
 *   GET  /console/{controller}/requests          the queue and filters
 *   POST /console/{controller}/search            by identifier
 *   GET  /console/{controller}/requests/{request}          its page
 *   POST /console/{controller}/requests/{request}/{action} an action
 *   GET  /console/{controller}/requests/{request}/report   its answer
 *   GET  /console/{controller}/staff             (DPO) console access
 *   POST /console/{controller}/staff             (DPO) lift a lockout
 *
 * The handlers' app is the server's struct api.
 */
#ifndef VAERN_CONSOLE_H
#define VAERN_CONSOLE_H

#include "../http/http.h"

int console_css(struct http_request *req, struct http_response *res, void *app);
int console_home(struct http_request *req, struct http_response *res,
                 void *app);
int console_login_page(struct http_request *req, struct http_response *res,
                       void *app);
int console_login_post(struct http_request *req, struct http_response *res,
                       void *app);
int console_logout(struct http_request *req, struct http_response *res,
                   void *app);
int console_queue(struct http_request *req, struct http_response *res,
                  void *app);
int console_search(struct http_request *req, struct http_response *res,
                   void *app);
int console_request_page(struct http_request *req, struct http_response *res,
                         void *app);
int console_request_action(struct http_request *req, struct http_response *res,
                           void *app);
int console_request_report(struct http_request *req, struct http_response *res,
                           void *app);
int console_staff(struct http_request *req, struct http_response *res,
                  void *app);

/*
 * The views (issue 20, points 3 to 6; console_views.h):
 *
 *   GET  /console-assets/views.css                   the views' rules
 *   GET  /console/{controller}/retention             the plan's chart,
 *                                                    counts, callouts;
 *                                                    (DPO) the holds
 *   POST /console/{controller}/retention/hold        (DPO) place a hold
 *   POST /console/{controller}/retention/lift        (DPO) lift one
 *   GET  /console/{controller}/audit                 (DPO) the trail,
 *                                                    filtered, paged
 *   POST /console/{controller}/audit                 (DPO) one person's
 *   GET|POST /console/{controller}/audit/export      (DPO) the same, CSV
 *   GET  /console/{controller}/incidents             (DPO) the cases
 *   GET  /console/{controller}/incidents/{case}      (DPO) a case
 *   POST /console/{controller}/incidents/{case}/{action}
 *                                   (DPO) register, receipt, feedback
 *   GET  /console/{controller}/policies[?from=&to=]  (DPO) versions, diff
 *   GET  /console/{controller}/policies/notice?version=&lang=
 *                                                    (DPO) the notice
 */
int console_views_css(struct http_request *req, struct http_response *res,
                      void *app);
int console_retention(struct http_request *req, struct http_response *res,
                      void *app);
int console_hold_place(struct http_request *req, struct http_response *res,
                       void *app);
int console_hold_lift(struct http_request *req, struct http_response *res,
                      void *app);
int console_audit(struct http_request *req, struct http_response *res,
                  void *app);
int console_audit_export(struct http_request *req, struct http_response *res,
                         void *app);
int console_incidents(struct http_request *req, struct http_response *res,
                      void *app);
int console_incident(struct http_request *req, struct http_response *res,
                     void *app);
int console_incident_post(struct http_request *req, struct http_response *res,
                          void *app);
int console_policies(struct http_request *req, struct http_response *res,
                     void *app);
int console_policy_notice(struct http_request *req, struct http_response *res,
                          void *app);

#endif
