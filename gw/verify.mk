# verify.mk -- tiergate-verify (pcap regression suites, docs/verify.md), its JSON reader, unit test and fuzz target.
VERIFY_SRCS := gw/json.c gw/verify_str.c gw/verify_case.c gw/verify_events.c gw/verify_check.c gw/verify_index.c \
               gw/verify_gw.c gw/verify_update.c gw/verify_result.c gw/verify_run.c \
               gw/verify_find.c gw/verify_sched.c gw/verify_junit.c
VERIFY_OBJS := $(VERIFY_SRCS:%.c=$(BUILD)/%.o)

BINS += $(BIN)/tiergate-verify
$(BIN)/tiergate-verify: $(BUILD)/gw/verify_main.o $(VERIFY_OBJS) $(LIB_OBJS)
tiergate-verify_LIBS = $(LIB_LIBS) -lm

UNIT_TESTS += $(BUILD)/t/test_verify
$(BUILD)/t/test_verify: $(BUILD)/tests/unit/test_verify.o $(VERIFY_OBJS) $(LIB_OBJS)
test_verify_LIBS = $(LIB_LIBS) -lm

FUZZERS += json
fuzz_json_OBJS = $(BUILD)/gw/json.o
