/*
 * portal.h -- the person's self-service portal (issue 16), served by
 * `vaern serve` beside the API for every controller whose policy has a
 * `portal:` section (docs/portal.md). This header is the module's whole
 * API: the handlers the server's route table names (src/api/api.c).
 *
 *   GET  /portal/{controller}                  to the overview or login
 *   GET  /portal/{controller}/login            the ways to log in
 *   POST /portal/{controller}/login            identifiers: a code is sent
 *   GET  /portal/{controller}/code             the code's form
 *   POST /portal/{controller}/code             the code: a session
 *   POST /portal/{controller}/logout           (all=1: everywhere)
 *   GET  /portal/{controller}/overview         agreement and products
 *   POST /portal/{controller}/change           a product change
 *   GET  /portal/{controller}/data             "my data"
 *   POST /portal/{controller}/data/{kind}      report-html, copy-json,
 *                                              copy-csv: a download
 *   GET  /portal/{controller}/consents         consents and objection
 *   POST /portal/{controller}/consents         give or withdraw
 *   POST /portal/{controller}/objection        object to marketing
 *   GET  /portal/{controller}/requests         requests and their status
 *   POST /portal/{controller}/requests         file one
 *   POST /portal/{controller}/password         set a password
 *   POST /portal/{controller}/cookies          the banner's choice
 *   GET  /portal/{controller}/report           a weakness report's form
 *   POST /portal/{controller}/report           the report (multipart,
 *                                              screenshots; no login)
 *   GET  /portal/{controller}/report/status    case number and secret
 *   POST /portal/{controller}/report/status    the report's status
 *   GET  /portal-assets/portal.css             the one style sheet
 *   GET  /.well-known/gpc.json                 Global Privacy Control
 *
 * Every page that shows personal data reads it through the gate with the
 * person as the actor (vault_actor_subject: GATE_ROLE_SUBJECT), audited
 * before the page goes out; every change goes through the same vault
 * calls, and every right through the same request queue, as the API's.
 * The handlers' app is the server's struct api.
 */
#ifndef VAERN_PORTAL_H
#define VAERN_PORTAL_H

#include "../http/http.h"

int portal_home(struct http_request *req, struct http_response *res, void *app);
int portal_login_page(struct http_request *req, struct http_response *res,
                      void *app);
int portal_login_post(struct http_request *req, struct http_response *res,
                      void *app);
int portal_code_page(struct http_request *req, struct http_response *res,
                     void *app);
int portal_code_post(struct http_request *req, struct http_response *res,
                     void *app);
int portal_logout(struct http_request *req, struct http_response *res,
                  void *app);
int portal_overview(struct http_request *req, struct http_response *res,
                    void *app);
int portal_change(struct http_request *req, struct http_response *res,
                  void *app);
int portal_data(struct http_request *req, struct http_response *res, void *app);
int portal_download(struct http_request *req, struct http_response *res,
                    void *app);
int portal_consents(struct http_request *req, struct http_response *res,
                    void *app);
int portal_consent_post(struct http_request *req, struct http_response *res,
                        void *app);
int portal_objection(struct http_request *req, struct http_response *res,
                     void *app);
int portal_requests(struct http_request *req, struct http_response *res,
                    void *app);
int portal_request_post(struct http_request *req, struct http_response *res,
                        void *app);
int portal_password(struct http_request *req, struct http_response *res,
                    void *app);
int portal_cookies(struct http_request *req, struct http_response *res,
                   void *app);
int portal_report_page(struct http_request *req, struct http_response *res,
                       void *app);
int portal_report_post(struct http_request *req, struct http_response *res,
                       void *app);
int portal_report_status_page(struct http_request *req,
                              struct http_response *res, void *app);
int portal_report_status_post(struct http_request *req,
                              struct http_response *res, void *app);
/* The report form's body limit (five screenshots and the texts) and
 * its admission before the body is read, for the route
 * "portal_report_post" (api_body_rules): 403 for another origin, 429
 * for a body of 1 MB or more (or of unknown length) from an address
 * past its reports of the hour (vault_report_rate_check). */
size_t portal_report_body_max(void);
int portal_report_admit(struct http_request *req, void *app);
int portal_css(struct http_request *req, struct http_response *res, void *app);
int portal_gpc(struct http_request *req, struct http_response *res, void *app);

#endif
