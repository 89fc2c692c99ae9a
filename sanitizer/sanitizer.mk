# sanitizer.mk -- the file sanitizer: core objects (shared with the milter), CLI, spool daemon, quarantine tool.
SAN_CORE_SRCS := sanitizer/charset.c
SAN_CORE_OBJS := $(SAN_CORE_SRCS:%.c=$(BUILD)/%.o)

UNIT_TESTS += $(BUILD)/t/test_san_charset
$(BUILD)/t/test_san_charset: $(BUILD)/tests/unit/test_san_charset.o $(BUILD)/sanitizer/charset.o

FUZZERS += charset
fuzz_charset_OBJS = $(BUILD)/sanitizer/charset.o
