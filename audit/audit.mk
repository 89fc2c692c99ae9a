# audit.mk -- tiergate-audit (checks the hash chain of event files), its fuzz target.
AUDIT_OBJS := $(BUILD)/audit/verify.o

BINS += $(BIN)/tiergate-audit
$(BIN)/tiergate-audit: $(BUILD)/audit/main.o $(AUDIT_OBJS) $(LIB_OBJS)
tiergate-audit_LIBS = $(LIB_LIBS)

FUZZERS += audit
fuzz_audit_OBJS = $(AUDIT_OBJS) $(LIB_OBJS)
fuzz_audit_LIBS = $(LIB_LIBS)
