/* tlsch.h -- looks into a TLS ClientHello's extensions for Encrypted Client Hello (nDPI 4.2 sees only ESNI). */
#ifndef TIERGATE_GW_TLSCH_H
#define TIERGATE_GW_TLSCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TLSCH_EXT_ECH 0xfe0d     /* encrypted_client_hello (RFC 9849 drafts) */
#define TLSCH_EXT_ESNI 0xffce    /* encrypted_server_name (the older draft) */

/*
 * data: a TCP payload from hostile hands that may start with a TLS record
 * holding a ClientHello. True when an extension of the ClientHello (as far as
 * these bytes reach) is ECH or ESNI. A ClientHello split over several segments
 * is read only as far as this one goes.
 */
bool tlsch_hides_name(const uint8_t *data, size_t len);

#endif
