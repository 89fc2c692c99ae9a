/* screenproto.c -- recognises the first client bytes of RDP (TPKT + X.224 Connection Request) and VNC (RFB version), nothing else. */
#include "vpn-bridge/screenproto.h"

#include <stdio.h>
#include <string.h>

unsigned
screenproto_from_name(const char *name)
{
	if (strcmp(name, "rdp") == 0)
		return SCREENPROTO_RDP;
	if (strcmp(name, "vnc") == 0)
		return SCREENPROTO_VNC;
	return 0;
}

/* TPKT (RFC 1006) version 3, then X.224 (ISO 8073) CR: [03 00 LEN_HI LEN_LO] [LI E0 ...]. */
static enum screenproto_verdict
screenproto_rdp(const uint8_t *d, size_t len)
{
	unsigned tpkt_len;

	if (len >= 1 && d[0] != 0x03)
		return SCREENPROTO_CUT;
	if (len >= 2 && d[1] != 0x00)
		return SCREENPROTO_CUT;
	if (len < 4)
		return SCREENPROTO_MORE;
	tpkt_len = (unsigned)d[2] << 8 | d[3];
	if (tpkt_len < 11 || tpkt_len > 4096)
		return SCREENPROTO_CUT;
	if (len >= 5 && d[4] != tpkt_len - 5)
		return SCREENPROTO_CUT;
	if (len < 6)
		return SCREENPROTO_MORE;
	return d[5] == 0xE0 ? SCREENPROTO_PASS : SCREENPROTO_CUT;
}

/* "RFB 003.NNN\n": RFC 6143 7.1.1 (3.3, 3.7, 3.8; some clients say 3.5 or 3.889). */
static enum screenproto_verdict
screenproto_vnc(const uint8_t *d, size_t len)
{
	static const char shape[] = "RFB 003.ddd\n";
	size_t n = len < sizeof shape - 1 ? len : sizeof shape - 1;

	for (size_t i = 0; i < n; i++) {
		int ok = shape[i] == 'd' ? (d[i] >= '0' && d[i] <= '9') : d[i] == (uint8_t)shape[i];
		if (!ok)
			return SCREENPROTO_CUT;
	}
	return n == sizeof shape - 1 ? SCREENPROTO_PASS : SCREENPROTO_MORE;
}

static void
screenproto_why(unsigned allowed, const uint8_t *data, size_t len, char *why, size_t why_size)
{
	size_t used;

	if (why_size == 0)
		return;
	used = (size_t)snprintf(why, why_size, "not a screen protocol: first bytes");
	for (size_t i = 0; i < len && i < 8 && used < why_size; i++)
		used += (size_t)snprintf(why + used, why_size - used, " %02x", data[i]);
	if (used < why_size)
		snprintf(why + used, why_size - used, " (allowed:%s%s)",
		    allowed & SCREENPROTO_RDP ? " rdp" : "", allowed & SCREENPROTO_VNC ? " vnc" : "");
}

enum screenproto_verdict
screenproto_sniff(unsigned allowed, const uint8_t *data, size_t len, char *why, size_t why_size)
{
	enum screenproto_verdict v[2] = { SCREENPROTO_CUT, SCREENPROTO_CUT };

	if (allowed & SCREENPROTO_RDP)
		v[0] = screenproto_rdp(data, len);
	if (allowed & SCREENPROTO_VNC)
		v[1] = screenproto_vnc(data, len);
	if (v[0] == SCREENPROTO_PASS || v[1] == SCREENPROTO_PASS)
		return SCREENPROTO_PASS;
	if (v[0] == SCREENPROTO_MORE || v[1] == SCREENPROTO_MORE)
		return SCREENPROTO_MORE;
	screenproto_why(allowed, data, len, why, why_size);
	return SCREENPROTO_CUT;
}
