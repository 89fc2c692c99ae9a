/* ctlcmd.h -- the admin command line of the control socket: unlock, revoke, user-changed, device-changed. */
#ifndef TIERGATE_BRIDGE_CTLCMD_H
#define TIERGATE_BRIDGE_CTLCMD_H

/*
 * Parses line in place into a known verb (a static string) and its argument; 0, or -1 when
 * the verb is unknown or the argument empty, longer than 128 bytes or not printable ASCII
 * without spaces. The caller still checks the argument for what the verb needs.
 */
int ctlcmd_parse(char *line, const char **verb, const char **arg);

#endif
