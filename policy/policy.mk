# policy.mk -- policy/: the zone model library every part links, and the admin tool tiergate-policy.
POLICY_SRCS := policy/policy.c policy/load.c policy/zone.c policy/compile.c policy/lookup.c \
               policy/invariant.c policy/apps.c policy/exception.c \
               policy/paths.c policy/grants.c policy/cloud.c \
               policy/asp.c policy/names.c policy/load_names.c policy/invariant_names.c
POLICY_OBJS := $(POLICY_SRCS:%.c=$(BUILD)/%.o)
POLICY_LIBS  = $(LIB_LIBS)

POLICY_TOOL_SRCS := policy/tool.c policy/tool_util.c policy/tool_explain.c policy/tool_show.c \
                    policy/tool_diff.c policy/tool_bench.c policy/tool_gen.c policy/tool_paths.c
POLICY_TOOL_OBJS := $(POLICY_TOOL_SRCS:%.c=$(BUILD)/%.o)

BINS += $(BIN)/tiergate-policy
$(BIN)/tiergate-policy: $(POLICY_TOOL_OBJS) $(POLICY_OBJS) $(LIB_OBJS)
tiergate-policy_LIBS = $(POLICY_LIBS)

UNIT_TESTS += $(BUILD)/t/test_policy
$(BUILD)/t/test_policy: $(BUILD)/tests/unit/test_policy.o $(BUILD)/policy/tool_gen.o $(POLICY_OBJS) $(LIB_OBJS)
test_policy_LIBS = $(POLICY_LIBS)

UNIT_TESTS += $(BUILD)/t/test_paths
$(BUILD)/t/test_paths: $(BUILD)/tests/unit/test_paths.o $(BUILD)/policy/tool_gen.o $(POLICY_OBJS) $(LIB_OBJS)
test_paths_LIBS = $(POLICY_LIBS)

FUZZERS += config
fuzz_config_OBJS = $(POLICY_OBJS) $(LIB_OBJS)
fuzz_config_LIBS = $(POLICY_LIBS)

FUZZERS += asp_state
fuzz_asp_state_OBJS = $(POLICY_OBJS) $(LIB_OBJS)
fuzz_asp_state_LIBS = $(POLICY_LIBS)
