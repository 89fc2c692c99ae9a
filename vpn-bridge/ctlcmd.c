/* ctlcmd.c -- parses one admin command line from the control socket ("VERB ARG"). */
#include "vpn-bridge/ctlcmd.h"

#include <string.h>

/*
 * Splits "VERB ARG" (one line, one space) into its parts; the verb must be one we know and
 * ARG a user name, an address or a fingerprint (no spaces, no control bytes). 0 or -1.
 */
int
ctlcmd_parse(char *line, const char **verb, const char **arg)
{
	static const char *const verbs[] = { "unlock", "revoke", "user-changed", "device-changed" };
	char *nl = strpbrk(line, "\r\n"), *sp;

	if (nl)
		*nl = '\0';
	sp = strchr(line, ' ');
	if (sp == NULL || sp[1] == '\0' || strlen(sp + 1) > 128)
		return -1;
	*sp = '\0';
	for (const char *p = sp + 1; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			return -1;
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(line, verbs[i]) == 0) {
			*verb = verbs[i];
			*arg = sp + 1;
			return 0;
		}
	return -1;
}

