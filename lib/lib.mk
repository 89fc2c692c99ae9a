# lib.mk -- lib/: what two or more parts share (log, JSON events and their reader, config, addresses, files).
LIB_SRCS := lib/log.c lib/event.c lib/evsink.c lib/evchain.c lib/evforward.c lib/evadmin.c lib/json.c lib/conf.c lib/util.c lib/addr.c \
	lib/textclean.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB_LIBS  = $(call PKG,--libs libconfig libcrypto)

# The JSON reader (tiergate-verify's events, the quarantine's metadata).
FUZZERS += json
fuzz_json_OBJS = $(LIB_OBJS)
fuzz_json_LIBS = $(LIB_LIBS)

# Password hashes (scrypt), TOTP and persisted lockouts: the bridge's logins and the release daemon's approvers.
LIB_AUTH_OBJS := $(BUILD)/lib/pwhash.o $(BUILD)/lib/totp.o $(BUILD)/lib/lockout.o
LIB_AUTH_LIBS  = $(call PKG,--libs liboath libcrypto)
$(LIB_AUTH_OBJS): EXTRA_CFLAGS = $(call PKG,--cflags liboath)

# lib/textclean.c: the one name and text cleaner (files and mail).
UNIT_TESTS += $(BUILD)/t/test_textclean
$(BUILD)/t/test_textclean: $(BUILD)/tests/unit/test_textclean.o $(BUILD)/lib/textclean.o
FUZZERS += textclean
fuzz_textclean_OBJS = $(BUILD)/lib/textclean.o
