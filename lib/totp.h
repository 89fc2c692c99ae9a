/* totp.h -- RFC 6238 codes through liboath: constant-time check that names the step used, and new secrets. */
#ifndef TIERGATE_TOTP_H
#define TIERGATE_TOTP_H

#include <stdint.h>
#include <time.h>

#define TOTP_SECRET_B32_MAX 128

/*
 * Checks code against the base32 secret at now, ±window steps. On success
 * returns 0 and the time step (counter) the code belongs to in *step, so the
 * caller can refuse a step already used. -1 on mismatch or a bad secret.
 */
int totp_check(const char *secret_b32, const char *code, time_t now, unsigned step_secs,
    unsigned window, unsigned digits, uint64_t *step);
/* A new random 160-bit secret, base32 (RFC 4648, no padding). */
int totp_new_secret(char out[TOTP_SECRET_B32_MAX]);

#endif
