# verify.mk -- tiergate-verify (pcap regression suites, docs/verify.md) and its unit test.
# It runs tiergate-gw as a subprocess and links only lib/: neither the engine nor policy.
VERIFY_SRCS := gw/verify/verify_str.c gw/verify/verify_case.c gw/verify/verify_events.c gw/verify/verify_check.c gw/verify/verify_index.c \
               gw/verify/verify_gw.c gw/verify/verify_update.c gw/verify/verify_result.c gw/verify/verify_run.c \
               gw/verify/verify_find.c gw/verify/verify_sched.c gw/verify/verify_junit.c
VERIFY_OBJS := $(VERIFY_SRCS:%.c=$(BUILD)/%.o)
# not gw.mk's nDPI flags: a verify file that reached for an nDPI header would not build
$(BUILD)/gw/verify/%.o: EXTRA_CFLAGS =

BINS += $(BIN)/tiergate-verify
$(BIN)/tiergate-verify: $(BUILD)/gw/verify/verify_main.o $(VERIFY_OBJS) $(LIB_OBJS)
tiergate-verify_LIBS = $(LIB_LIBS) -lm

UNIT_TESTS += $(BUILD)/t/test_verify
$(BUILD)/t/test_verify: $(BUILD)/tests/unit/test_verify.o $(VERIFY_OBJS) $(LIB_OBJS)
test_verify_LIBS = $(LIB_LIBS) -lm

