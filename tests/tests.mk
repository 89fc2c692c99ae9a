# tests.mk -- unit test binaries and fuzz targets (replay drivers for make test, libFuzzer for make fuzz).
#
# A part adds a unit test with:    UNIT_TESTS += $(BUILD)/t/test_foo
#                                  $(BUILD)/t/test_foo: $(BUILD)/tests/unit/test_foo.o <objs>
#                                  test_foo_LIBS = <libs>
# A part adds a fuzz target with:  FUZZERS += foo   (source tests/fuzz/fuzz_foo.c,
#                                  corpus tests/fuzz/corpus/foo/)
#                                  fuzz_foo_OBJS = <objs>    fuzz_foo_LIBS = <libs>

ifeq ($(FUZZ),1)
ALL_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
LDFLAGS    += -fsanitize=address,undefined
endif

$(BUILD)/t/%:
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $($(notdir $@)_LIBS)

FUZZ_REPLAYS :=
define FUZZ_template
FUZZ_REPLAYS += $(BUILD)/fuzz/replay_$(1)
$(BUILD)/fuzz/replay_$(1): $(BUILD)/tests/fuzz/fuzz_$(1).o $(BUILD)/tests/fuzz/replay_main.o $$(fuzz_$(1)_OBJS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) $$(LDFLAGS) -o $$@ $$(filter %.o %.a,$$^) $$(fuzz_$(1)_LIBS)
$(BUILD)/fuzz/fuzz_$(1): $(BUILD)/tests/fuzz/fuzz_$(1).o $$(fuzz_$(1)_OBJS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(ALL_CFLAGS) -fsanitize=fuzzer $$(LDFLAGS) -o $$@ $$(filter %.o %.a,$$^) $$(fuzz_$(1)_LIBS)
endef
$(foreach f,$(FUZZERS),$(eval $(call FUZZ_template,$(f))))

.PHONY: fuzz-targets
fuzz-targets: $(FUZZERS:%=$(BUILD)/fuzz/fuzz_%)
	@echo "fuzz targets in $(BUILD)/fuzz: run e.g. $(BUILD)/fuzz/fuzz_config tests/fuzz/corpus/config"

# lib/'s own unit test and fuzz target (JSON writer, addresses, config diagnostics).
UNIT_TESTS += $(BUILD)/t/test_lib
$(BUILD)/t/test_lib: $(BUILD)/tests/unit/test_lib.o $(LIB_OBJS)
test_lib_LIBS = $(LIB_LIBS)

# A writer of test events (12-audit: many processes appending to one hash-chained file).
UNIT_TESTS += $(BUILD)/t/ev_append
$(BUILD)/t/ev_append: $(BUILD)/tests/unit/ev_append.o $(LIB_OBJS)
ev_append_LIBS = $(LIB_LIBS)
