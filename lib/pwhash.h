/* pwhash.h -- salted memory-hard password hashes (scrypt through OpenSSL 3's EVP_KDF). */
#ifndef TIERGATE_PWHASH_H
#define TIERGATE_PWHASH_H

#include <stdbool.h>
#include <stddef.h>

#define PWHASH_MAX 160   /* "$scrypt$ln=14,r=8,p=1$<32 hex salt>$<64 hex hash>" fits */

/* Hashes password with a fresh random salt into out. Returns 0 or -1. */
int pwhash_make(const char *password, size_t len, char out[PWHASH_MAX]);
/* True when password matches stored; the final compare is constant-time. */
bool pwhash_verify(const char *stored, const char *password, size_t len);
/* Spends the same time as a verify, for unknown users (no timing oracle on names). */
void pwhash_dummy(const char *password, size_t len);

#endif
