# bridge.mk -- vpn-bridge/: tiergate-bridge (auth + relay processes, admin tools) and tiergate-connect.
BRIDGE_PKGS = libevent_openssl libevent openssl liboath libqrencode libpng libseccomp
$(BUILD)/vpn-bridge/%.o: EXTRA_CFLAGS = $(call PKG,--cflags $(BRIDGE_PKGS))

# Objects shared by the daemon, the tools, the unit test and the fuzz target.
BRIDGE_CORE_OBJS := $(addprefix $(BUILD)/vpn-bridge/,config.o http.o \
	token.o userdb.o devreg.o counts.o access.o asp.o asp_probe.o asp_report.o tls.o keyproc.o keyproc_policy.o screenproto.o handshake.o auth.o auth_revoke.o control.o ctlcmd.o crl.o enroll.o)
BRIDGE_CORE_OBJS += $(LIB_AUTH_OBJS)
BRIDGE_CORE_OBJS += $(BUILD)/vpn-bridge/relay_state.o
BRIDGE_DAEMON_OBJS := $(addprefix $(BUILD)/vpn-bridge/,relay_pump.o relay_sandbox.o relay_landlock.o daemon.o asp_sched.o privfiles.o admin.o asp_cli.o main.o)
BRIDGE_OBJS := $(BRIDGE_CORE_OBJS) $(BUILD)/vpn-bridge/relay.o $(BRIDGE_DAEMON_OBJS)
BRIDGE_LIBS = $(call PKG,--libs $(BRIDGE_PKGS)) $(LIB_LIBS)

BINS += $(BIN)/tiergate-bridge $(BIN)/tiergate-connect
$(BIN)/tiergate-bridge: $(BRIDGE_OBJS) $(POLICY_OBJS) $(LIB_OBJS)
tiergate-bridge_LIBS = $(BRIDGE_LIBS)

$(BIN)/tiergate-connect: $(BUILD)/vpn-bridge/connect.o $(BUILD)/vpn-bridge/http.o $(LIB_OBJS)
tiergate-connect_LIBS = $(call PKG,--libs openssl) $(LIB_LIBS)

UNIT_TESTS += $(BUILD)/t/test_bridge
$(BUILD)/t/test_bridge: $(BUILD)/tests/unit/test_bridge.o $(BRIDGE_CORE_OBJS) $(POLICY_OBJS) $(LIB_OBJS)
test_bridge_LIBS = $(BRIDGE_LIBS)
$(BUILD)/tests/unit/test_bridge.o: EXTRA_CFLAGS = $(call PKG,--cflags $(BRIDGE_PKGS))

# Handshakes against a forked key process: asynchronous signing, job limit, cancel, timeout, death.
UNIT_TESTS += $(BUILD)/t/test_bridge_tls
$(BUILD)/t/test_bridge_tls: $(BUILD)/tests/unit/test_bridge_tls.o $(BRIDGE_CORE_OBJS) $(POLICY_OBJS) $(LIB_OBJS)
test_bridge_tls_LIBS = $(BRIDGE_LIBS)
$(BUILD)/tests/unit/test_bridge_tls.o: EXTRA_CFLAGS = $(call PKG,--cflags $(BRIDGE_PKGS))

# The daemon with the relay's test hooks (TIERGATE_TEST_HOOKS: injected allocation
# failures; SIGUSR2 logs what OpenSSL and libevent hold, relay_memcount.c); tests and
# make bench run it, nothing installs it.
UNIT_TESTS += $(BUILD)/t/tiergate-bridge-hooks
$(BUILD)/t/relay_hooks.o: vpn-bridge/relay.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(call PKG,--cflags $(BRIDGE_PKGS)) -DTIERGATE_TEST_HOOKS -MMD -MP -c -o $@ $<
$(BUILD)/t/tiergate-bridge-hooks: $(BRIDGE_CORE_OBJS) $(BUILD)/t/relay_hooks.o $(BUILD)/vpn-bridge/relay_memcount.o $(BRIDGE_DAEMON_OBJS) $(POLICY_OBJS) $(LIB_OBJS)
tiergate-bridge-hooks_LIBS = $(BRIDGE_LIBS)

# A preload that makes the kernel look as if it had no Landlock (ENOSYS), for the production
# binary's relay_landlock = "require" / "best-effort" checks in 75-bridge-priv. Plain flags:
# it is loaded into whichever build the suite runs.
UNIT_TESTS += $(BUILD)/t/no_landlock.so
$(BUILD)/t/no_landlock.so: tests/bridge/no_landlock.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=gnu11 -Wall -Wextra -Werror -O2 -fPIC -shared -o $@ $< -ldl

FUZZERS += ctlcmd
fuzz_ctlcmd_OBJS = $(BUILD)/vpn-bridge/ctlcmd.o $(LIB_OBJS)
fuzz_ctlcmd_LIBS = $(LIB_LIBS)

FUZZERS += connect
fuzz_connect_OBJS = $(BUILD)/vpn-bridge/http.o $(LIB_OBJS)
fuzz_connect_LIBS = $(LIB_LIBS)
FUZZERS += screenproto
fuzz_screenproto_OBJS = $(BUILD)/vpn-bridge/screenproto.o $(LIB_OBJS)
fuzz_screenproto_LIBS = $(LIB_LIBS)

# The load client of make bench (TLS handshakes/s, bulk, idle sessions): built by make, like the other bench helpers.
UNIT_TESTS += $(BUILD)/t/tls_load
$(BUILD)/t/tls_load: $(BUILD)/tests/bench/tls_load.o
tls_load_LIBS = $(call PKG,--libs openssl)
# What OpenSSL itself holds per server session, with and without a device certificate (make bench).
UNIT_TESTS += $(BUILD)/t/tls_floor
$(BUILD)/t/tls_floor: $(BUILD)/tests/bench/tls_floor.o
tls_floor_LIBS = $(call PKG,--libs openssl)
