# quarantined.mk -- tiergate-quarantined (the release daemon on a local socket), its protocol fuzz target and unit test.
QREL_SRCS := sanitizer/qrel_daemon.c sanitizer/qrel_admin.c sanitizer/qrel_portal.c sanitizer/qrel_store.c \
	sanitizer/qrel_file.c sanitizer/qrel_notify.c sanitizer/qrel_login.c sanitizer/relsock_proto.c sanitizer/reltoken.c \
	sanitizer/relticket.c sanitizer/relrevoke.c sanitizer/uniqname.c
QREL_OBJS := $(QREL_SRCS:%.c=$(BUILD)/%.o)

BINS += $(BIN)/tiergate-quarantined
# like tiergate-quarantine, the daemon parses nothing hostile but its request line: only the store is linked
$(BIN)/tiergate-quarantined: $(BUILD)/sanitizer/main_quarantined.o $(QREL_OBJS) $(BUILD)/sanitizer/quarantine.o \
	$(BUILD)/sanitizer/config.o $(LIB_AUTH_OBJS) $(LIB_OBJS)
tiergate-quarantined_LIBS = $(call PKG,--libs libcrypto) $(LIB_AUTH_LIBS) $(LIB_LIBS)

FUZZERS += relsock reltoken
fuzz_relsock_OBJS = $(BUILD)/sanitizer/relsock_proto.o $(BUILD)/sanitizer/relticket.o $(LIB_OBJS)
fuzz_relsock_LIBS = $(call PKG,--libs libcrypto) $(LIB_LIBS)
fuzz_reltoken_OBJS = $(BUILD)/sanitizer/reltoken.o $(LIB_OBJS)
fuzz_reltoken_LIBS = $(call PKG,--libs libcrypto) $(LIB_LIBS)

UNIT_TESTS += $(BUILD)/t/test_qrel
$(BUILD)/t/test_qrel: $(BUILD)/tests/unit/test_qrel.o $(BUILD)/sanitizer/relsock_proto.o \
	$(BUILD)/sanitizer/reltoken.o $(BUILD)/sanitizer/relticket.o $(BUILD)/sanitizer/relrevoke.o $(BUILD)/sanitizer/qrel_file.o $(BUILD)/sanitizer/uniqname.o $(LIB_OBJS)
test_qrel_LIBS = $(call PKG,--libs libcrypto) $(LIB_LIBS)
