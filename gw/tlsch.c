/* tlsch.c -- walks a ClientHello to its extensions, bounded by the bytes at hand, looking for ECH/ESNI. */
#include "gw/tlsch.h"

#define TLSCH_RECORD_HDR 5
#define TLSCH_HS_HDR 4
#define TLSCH_RANDOM 32

static unsigned
tlsch_u16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Skips a vector with an n-byte length; false when the bytes end first. */
static bool
tlsch_skip(const uint8_t *d, size_t len, size_t *off, int n)
{
	size_t vlen;

	if (*off + (size_t)n > len)
		return false;
	vlen = n == 1 ? d[*off] : tlsch_u16(d + *off);
	*off += (size_t)n + vlen;
	return *off <= len;
}

bool
tlsch_hides_name(const uint8_t *d, size_t len)
{
	size_t off = TLSCH_RECORD_HDR + TLSCH_HS_HDR, end;

	if (len < off + 2 + TLSCH_RANDOM || d[0] != 0x16 || d[1] != 0x03 || d[5] != 0x01)
		return false;   /* not a handshake record starting a ClientHello */
	off += 2 + TLSCH_RANDOM;   /* legacy_version, random */
	if (!tlsch_skip(d, len, &off, 1) || !tlsch_skip(d, len, &off, 2) || !tlsch_skip(d, len, &off, 1))
		return false;   /* session id, cipher suites, compression methods */
	if (off + 2 > len)
		return false;
	end = off + 2 + tlsch_u16(d + off);
	if (end > len)
		end = len;   /* the rest is in a later segment: read what is here */
	for (off += 2; off + 4 <= end;) {
		unsigned type = tlsch_u16(d + off);
		if (type == TLSCH_EXT_ECH || type == TLSCH_EXT_ESNI)
			return true;
		off += 4 + tlsch_u16(d + off + 2);
	}
	return false;
}
