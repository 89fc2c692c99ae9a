# live.mk -- tiergate-gw's live front-end (NFQUEUE): queue threads, rules, control socket, metrics, privilege drop.
GW_LIVE_SRCS := gw/live.c gw/live_queue.c gw/live_reload.c gw/live_stats.c gw/live_ifname.c gw/live_ha.c \
                gw/nfqconf.c gw/nfqsock.c gw/nfqct.c gw/iptrules.c gw/privdrop.c gw/ctl.c gw/metrics.c
GW_LIVE_OBJS := $(GW_LIVE_SRCS:%.c=$(BUILD)/%.o)

$(BIN)/tiergate-gw: $(GW_LIVE_OBJS)
tiergate-gw_LIBS += $(call PKG,--libs libnetfilter_queue libmnl libcap-ng)

# Benchmark peer (scripts/bench.d/40-gw-live.sh) and the traffic helper the bench uses.
UNIT_TESTS += $(BUILD)/t/nfq_accept $(BUILD)/t/udpgen
$(BUILD)/t/nfq_accept: $(BUILD)/tests/bench/nfq_accept.o
nfq_accept_LIBS = $(call PKG,--libs libnetfilter_queue libmnl)
$(BUILD)/t/udpgen: $(BUILD)/tests/netns/udpgen.o

UNIT_TESTS += $(BUILD)/t/test_live
$(BUILD)/t/test_live: $(BUILD)/tests/unit/test_live.o $(BUILD)/gw/nfqconf.o $(BUILD)/gw/iptrules.o \
                      $(BUILD)/gw/ctl.o $(BUILD)/gw/metrics.o $(BUILD)/gw/live_ifname.o $(LIB_OBJS)
test_live_LIBS = $(LIB_LIBS)
