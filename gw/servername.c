/* servername.c -- a flow's server name (from nDPI, ECH checked), DNS answers into the binding table, per-list hits. */
#include <stdlib.h>
#include <string.h>

#include "gw/dnsans.h"
#include "gw/dnsbind.h"
#include "gw/engine_int.h"
#include "gw/tlsch.h"
#include "lib/util.h"

#define SN_BUF 80                 /* nDPI's host_server_name[80] */
#define SN_CUT_AT (SN_BUF - 1)    /* a name this long may have been cut by nDPI */
#define DNS_PORT 53

static const uint8_t *
sn_payload(const struct decoded *d)
{
	return d->l3 + d->l3_len - d->payload_len;
}

/* The application just became known: keep the name nDPI read before its state goes. */
void
servername_take(struct gw_engine *e, struct flow *f, const struct decoded *d)
{
	char buf[SN_BUF];
	enum dpi_name got;
	size_t n;

	if (f->dpi == NULL || f->app == FLOW_APP_PENDING || f->name != NULL)
		return;
	got = dpi_server_name(f->dpi, f->app, buf, sizeof buf);
	f->name_state = NAME_NONE;
	if (got == DPI_NAME_ESNI ||
	    (f->proto == 6 && dpi_app_is_tls(f->app) && tlsch_hides_name(sn_payload(d), d->payload_len))) {
		f->name_state = NAME_ENCRYPTED;
		e->c.names_hidden++;
	}
	if (buf[0] == '\0')
		return;
	n = strlen(buf);
	f->name = strdup(buf);
	if (f->name == NULL)
		return;   /* no memory: no name, so no name rule matches (fails closed) */
	e->names_bytes += n + 1;
	e->c.names_known++;
	if (f->name_state != NAME_ENCRYPTED)
		f->name_state = n >= SN_CUT_AT ? NAME_CUT : NAME_KNOWN;
}

void
servername_release(struct gw_engine *e, struct flow *f)
{
	if (f->name == NULL)
		return;
	e->names_bytes -= strlen(f->name) + 1;
	free(f->name);
	f->name = NULL;
}

static bool
sn_bound(void *arg, const char *name, const struct addr *dst)
{
	struct gw_engine *e = arg;

	return e->dnsbind != NULL && dnsbind_has(e->dnsbind, name, dst, e->now_us);
}

/*
 * A flow accepted through a name had its address checked then; a reload hours
 * later must not cut it because that DNS answer has expired since. Its name and
 * the lists are checked again.
 */
static bool
sn_was_bound(void *arg, const char *name, const struct addr *dst)
{
	return true;
}

void
servername_policy_flow(struct gw_engine *e, const struct flow *f, struct policy_flow *pf)
{
	pf->name_state = (enum policy_name_state)f->name_state;
	pf->server_name = f->name;
	pf->name_bound = f->name_bound ? sn_was_bound : sn_bound;
	pf->name_bound_arg = e;
}

static bool
sn_is_dns(const struct flow *f)
{
	return f->proto == 17 && f->dport == DNS_PORT;
}

/*
 * DNS flows must keep coming to the queue while names are bound, so their
 * answers are read: an accepted DNS flow is then never handed to the kernel.
 */
bool
servername_keep_queued(const struct gw_engine *e, const struct flow *f)
{
	return e->binds_names && e->dnsbind != NULL && sn_is_dns(f);
}

static void
sn_learn(const char *name, const struct addr *a, uint32_t ttl, void *arg)
{
	struct gw_engine *e = arg;

	dnsbind_add(e->dnsbind, name, a, ttl, e->now_us);
	e->c.dns_addresses++;
}

/* An answer the gateway forwards (from the server of an accepted DNS flow) teaches the binding table. */
void
servername_dns(struct gw_engine *e, const struct flow *f, const struct decoded *d, int dir)
{
	if (dir != 1 || e->dnsbind == NULL || !sn_is_dns(f) || !f->final || f->action != ACT_ACCEPT ||
	    d->payload_len == 0 || d->is_frag || !e->binds_names)
		return;
	e->c.dns_answers++;
	if (dnsans_parse(sn_payload(d), d->payload_len, sn_learn, e) < 0)
		e->c.dns_answers_bad++;
}

void
servername_list_hit(struct gw_engine *e, const struct flow *f)
{
	const char *list = policy_name_list_name(e->policy, f->name_list);
	struct gw_counters *c = &e->c;
	unsigned i;

	if (list == NULL)
		return;
	for (i = 0; i < c->lists && strcmp(c->list[i].list, list) != 0; i++)
		;
	if (i == c->lists) {
		if (c->lists == GW_LIST_MAX)
			return;
		str_copy(c->list[i].list, list, sizeof c->list[i].list);
		c->lists++;
	}
	c->list[i].hits++;
}

void
servername_counters(const struct gw_engine *e, struct gw_counters *out)
{
	struct dnsbind_stats st;

	if (e->dnsbind == NULL)
		return;
	dnsbind_stats(e->dnsbind, &st);
	out->dns_names = st.names;
	out->dns_capacity = st.capacity;
	out->dns_bytes = st.bytes;
	out->dns_evicted = st.evicted;
	out->dns_hits = st.hits;
	out->dns_misses = st.misses;
}

void
gw_engine_share_names(struct gw_engine *e, const struct gw_engine *other)
{
	if (e == other || other->dnsbind == NULL)
		return;
	dnsbind_unref(e->dnsbind);
	e->dnsbind = dnsbind_ref(other->dnsbind);
}
