/* tool_util.c -- what several tiergate-policy subcommands print: rule summaries, flows, protocols. */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/util.h"
#include "policy/internal.h"
#include "policy/tool.h"

int
tool_parse_proto(const char *text, uint8_t *out)
{
	unsigned long num;

	if (strcmp(text, "tcp") == 0)
		*out = IPPROTO_TCP;
	else if (strcmp(text, "udp") == 0)
		*out = IPPROTO_UDP;
	else if (strcmp(text, "icmp") == 0)
		*out = IPPROTO_ICMP;
	else if (strcmp(text, "icmp6") == 0 || strcmp(text, "ipv6-icmp") == 0)
		*out = IPPROTO_ICMPV6;
	else if (parse_ulong(text, 255, &num) == 0)
		*out = (uint8_t)num;
	else
		return -1;
	return 0;
}

const char *
tool_proto_name(uint8_t proto, char *buf, size_t size)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmp6";
	default:
		snprintf(buf, size, "proto %u", proto);
		return buf;
	}
}

/* Appends to buf at *used, never past size. */
void
tool_cat(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*used >= size)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *used, size - *used, fmt, ap);
	va_end(ap);
	if (n > 0)
		*used += (size_t)n < size - *used ? (size_t)n : size - *used - 1;
}

static const char *
tool_rule_proto(enum rule_proto rp)
{
	static const char *const names[] = { "any", "tcp", "udp", "icmp" };

	return names[rp];
}

/* "TLS/443", "udp/123", "icmp", "tcp/8000-8080", "any": what a rule lets through, without addresses. */
void
tool_rule_service(const struct policy *p, const struct prule *r, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < r->napps; i++)
		tool_cat(buf, size, &used, "%s%s", i ? "," : "", p->apps[r->apps[i]]);
	if (r->napps == 0)
		tool_cat(buf, size, &used, "%s", tool_rule_proto(r->proto));
	for (int i = 0; i < r->nports; i++) {
		tool_cat(buf, size, &used, "%s%u", i ? "," : "/", r->ports[i].lo);
		if (r->ports[i].hi != r->ports[i].lo)
			tool_cat(buf, size, &used, "-%u", r->ports[i].hi);
	}
}

/* "intermediate", "10.20.0.0/16,lgwan-dns" or "any". */
void
tool_addrs(const struct policy *p, const struct paddr *v, int n, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	if (n == 0)
		tool_cat(buf, size, &used, "any");
	for (int i = 0; i < n; i++) {
		char text[64];
		if (v[i].host >= 0)
			str_copy(text, p->hosts[v[i].host].name, sizeof text);
		else
			prefix_format(&v[i].net, text, sizeof text);
		tool_cat(buf, size, &used, "%s%s", i ? "," : "", text);
	}
}

/* "TLS/443 → intermediate" (sources shown only when the rule narrows them). */
/* " names [@list:groupware (7 names), a.example], bound to DNS answers" */
static void
tool_rule_names(const struct policy *p, const struct prule *r, char *buf, size_t size, size_t *used)
{
	if (r->names == NULL)
		return;
	tool_cat(buf, size, used, " names [");
	for (int i = 0; i < r->nname_src; i++) {
		const char *e = r->name_src[i];
		int n = -1;
		for (int k = 0; str_has_prefix(e, "@list:") && k < p->nlists; k++)
			if (strcmp(p->lists[k].name, e + 6) == 0)
				n = p->lists[k].npatterns;
		tool_cat(buf, size, used, "%s%s", i ? ", " : "", e);
		if (n >= 0)
			tool_cat(buf, size, used, " (%d name%s)", n, n == 1 ? "" : "s");
	}
	tool_cat(buf, size, used, "]%s", r->bind_dns ? ", bound to DNS answers" : "");
}

void
tool_rule_summary(const struct policy *p, const struct prule *r, char *buf, size_t size)
{
	char service[128], src[256], dst[256];
	size_t used = 0;

	tool_rule_service(p, r, service, sizeof service);
	tool_addrs(p, r->src, r->nsrc, src, sizeof src);
	tool_addrs(p, r->dst, r->ndst, dst, sizeof dst);
	buf[0] = '\0';
	if (r->nsrc > 0)
		tool_cat(buf, size, &used, "%s: ", src);
	tool_cat(buf, size, &used, "%s → %s", service, dst);
	tool_rule_names(p, r, buf, size, &used);
}

/* The named host that holds a (most specific), or NULL. */
const char *
tool_host_of(const struct policy *p, const struct addr *a)
{
	const struct phost *best = NULL;

	for (int i = 0; i < p->nhosts; i++)
		if (prefix_contains(&p->hosts[i].net, a) && (best == NULL || p->hosts[i].net.len > best->net.len))
			best = &p->hosts[i];
	return best ? best->name : NULL;
}

/* Why a is in its zone: "interface lan1" or "network 10.20.0.0/16" (the most specific one). */
void
tool_zone_why(const struct policy *p, const struct addr *a, const char *ifname, int zone,
    char *buf, size_t size)
{
	const struct prefix *best = NULL;

	snprintf(buf, size, "in no zone's networks");
	if (zone < 0)
		return;
	for (int i = 0; ifname && i < p->zones[zone].nifs; i++)
		if (strcmp(p->zones[zone].ifs[i], ifname) == 0) {
			snprintf(buf, size, "interface %s", ifname);
			return;
		}
	for (int i = 0; i < p->zones[zone].nnets; i++)
		if (prefix_contains(&p->zones[zone].nets[i], a) &&
		    (best == NULL || p->zones[zone].nets[i].len > best->len))
			best = &p->zones[zone].nets[i];
	if (best) {
		char text[64];
		prefix_format(best, text, sizeof text);
		snprintf(buf, size, "network %s", text);
	}
}

/* Display width of UTF-8 text, counting each code point as one column. */
size_t
tool_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* Prints s padded with spaces to width columns. */
void
tool_pad(FILE *out, const char *s, size_t width)
{
	size_t w = tool_width(s);

	fputs(s, out);
	for (; w < width; w++)
		fputc(' ', out);
}
