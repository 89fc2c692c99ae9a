/* screenproto.h -- is what a telework client sends first a screen protocol (RDP, VNC)? The bridge's check inside the tunnel. */
#ifndef TIERGATE_BRIDGE_SCREENPROTO_H
#define TIERGATE_BRIDGE_SCREENPROTO_H

#include <stddef.h>
#include <stdint.h>

/* The protocols a grant may list (bridge.grants[].protocols), as bits. */
enum screenproto { SCREENPROTO_RDP = 1u << 0, SCREENPROTO_VNC = 1u << 1 };

/* The bit of a name ("rdp", "vnc"), or 0 when it names none. */
unsigned screenproto_from_name(const char *name);

/* More bytes than any of the checks reads: what the relay looks at, at most. */
#define SCREENPROTO_NEED 16

enum screenproto_verdict { SCREENPROTO_MORE, SCREENPROTO_PASS, SCREENPROTO_CUT };

/*
 * The client's first len bytes against the protocols in allowed (a mask):
 *   RDP: a TPKT header (version 3, reserved 0, length 11..4096) carrying an X.224
 *        Connection Request TPDU (length indicator = TPKT length - 5, code 0xE0);
 *   VNC: the client's version reply "RFB 003.NNN\n" (the server speaks first in RFB:
 *        the relay lets the server's banner through before this check).
 * PASS once a listed protocol matches, CUT once none can (why: "not a screen protocol: ..."
 * with the first bytes in hex, into why), MORE while a prefix could still match.
 */
enum screenproto_verdict screenproto_sniff(unsigned allowed, const uint8_t *data, size_t len,
    char *why, size_t why_size);

#endif
