# gw.mk -- the gateway's packet engine, the offline (--pcap) front-end, tiergate-gw, tests, fuzz, bench helper.
GW_ENGINE_SRCS := gw/decode.c gw/flow.c gw/frag.c gw/reply.c gw/ndpi_glue.c gw/flowlog.c \
                  gw/counters.c gw/engine.c gw/reload.c gw/config.c \
                  gw/servername.c gw/dnsans.c gw/dnsbind.c gw/tlsch.c
GW_ENGINE_OBJS := $(GW_ENGINE_SRCS:%.c=$(BUILD)/%.o)
GW_ENGINE_LIBS  = $(call PKG,--libs libndpi) $(POLICY_LIBS)
# The pcap reader (tiergate-gw --pcap, and anything else that replays captures in-process).
GW_REPLAY_OBJS := $(BUILD)/gw/replay.o
GW_REPLAY_LIBS  = $(call PKG,--libs libpcap)
GW_PCAP_OBJS   := $(BUILD)/gw/pcap_main.o $(GW_REPLAY_OBJS)

$(BUILD)/gw/%.o: EXTRA_CFLAGS = $(call PKG,--cflags libndpi)

# The live front-end (gw/live.mk) adds its objects as prerequisites of $(BIN)/tiergate-gw
# and its libraries with tiergate-gw_LIBS += ...; main.c finds gw_live_main then.
BINS += $(BIN)/tiergate-gw
$(BIN)/tiergate-gw: $(BUILD)/gw/main.o $(GW_PCAP_OBJS) $(GW_ENGINE_OBJS) $(POLICY_OBJS) $(LIB_OBJS)
tiergate-gw_LIBS = $(GW_REPLAY_LIBS) $(GW_ENGINE_LIBS)

UNIT_TESTS += $(BUILD)/t/test_gw
$(BUILD)/t/test_gw: $(BUILD)/tests/unit/test_gw.o $(GW_ENGINE_OBJS) $(POLICY_OBJS) $(LIB_OBJS)
test_gw_LIBS = $(GW_ENGINE_LIBS)
$(BUILD)/tests/unit/test_gw.o: EXTRA_CFLAGS = $(call PKG,--cflags libndpi)

UNIT_TESTS += $(BUILD)/t/test_names
$(BUILD)/t/test_names: $(BUILD)/tests/unit/test_names.o $(GW_ENGINE_OBJS) $(POLICY_OBJS) $(LIB_OBJS)
test_names_LIBS = $(GW_ENGINE_LIBS)

FUZZERS += dnsans names
fuzz_dnsans_OBJS = $(GW_ENGINE_OBJS) $(POLICY_OBJS) $(LIB_OBJS)
fuzz_dnsans_LIBS = $(GW_ENGINE_LIBS)
fuzz_names_OBJS = $(POLICY_OBJS) $(LIB_OBJS)
fuzz_names_LIBS = $(POLICY_LIBS)

FUZZERS += decode
fuzz_decode_OBJS = $(GW_ENGINE_OBJS) $(POLICY_OBJS) $(LIB_OBJS)
fuzz_decode_LIBS = $(GW_ENGINE_LIBS)

# Benchmark peer: a libpcap read loop that does nothing (scripts/bench.d/30-gw-pcap.sh).
UNIT_TESTS += $(BUILD)/t/pcap_read
$(BUILD)/t/pcap_read: $(BUILD)/tests/bench/pcap_read.o
pcap_read_LIBS = $(GW_REPLAY_LIBS)
# Benchmark: server-name lookups with N patterns (scripts/bench.d/25-names.sh).
UNIT_TESTS += $(BUILD)/t/names_bench
$(BUILD)/t/names_bench: $(BUILD)/tests/bench/names_bench.o $(POLICY_OBJS) $(LIB_OBJS)
names_bench_LIBS = $(POLICY_LIBS)
