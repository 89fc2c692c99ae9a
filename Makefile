# Makefile -- one build for all of tiergate: make, make test, make bench, make demo.
#
#   make            build every binary into build/bin
#   make test       install what is missing, build, run every test (ends "N passed, N failed")
#   make check-asan the unit-tier tests again under ASan+UBSan (build-asan/)
#   make bench      measure against the peers (ndpiReader, ghostscript, haproxy)
#   make demo       the main job on the bundled defaults
#   make fuzz       libFuzzer builds of every fuzz target (clang)
#   make deps       install the Debian 12 packages (as root)

BUILD    ?= build
CC       ?= gcc
SAN      ?= 0
OPT      ?= -O2
WARN      = -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wpointer-arith -Wvla -Wno-unused-parameter
CFLAGS   ?= $(OPT) -g
CPPFLAGS += -I. -D_GNU_SOURCE
ALL_CFLAGS = -std=gnu11 $(WARN) $(CFLAGS) -fstack-protector-strong -D_FORTIFY_SOURCE=2 -pthread
LDFLAGS  += -pthread

ifeq ($(SAN),1)
OPT       = -O1
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ALL_CFLAGS := $(filter-out -D_FORTIFY_SOURCE=2,$(ALL_CFLAGS))
LDFLAGS  += -fsanitize=address,undefined
endif

PKG = $(shell pkg-config $(1) 2>/dev/null)

BIN  = $(BUILD)/bin
BINS :=
UNIT_TESTS :=
FUZZERS :=
CLEAN_EXTRA :=

.PHONY: all deps deps-build test check-asan bench demo fuzz clean unit
all: build-all

# Every part's fragment, named, in dependency order: a fragment only uses the
# object lists of those above it (lib, then policy, then the parts that link
# them; the mail half after the file sanitizer whose core it links), and
# tests last (it expands the FUZZERS the parts declared).
include lib/lib.mk
include policy/policy.mk
include gw/gw.mk
include gw/live.mk
include gw/verify/verify.mk
include sanitizer/sanitizer.mk
include sanitizer/mail/mail.mk
include sanitizer/quarantined.mk
include sanitizer/portal.mk
include vpn-bridge/bridge.mk
include audit/audit.mk
include tests/tests.mk
include install.mk

build-all: $(BINS) $(UNIT_TESTS) $(FUZZ_REPLAYS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(EXTRA_CFLAGS) -MMD -MP -c -o $@ $<

# Each binary lists its objects as prerequisites and its libraries in <name>_LIBS.
$(BIN)/%:
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o %.a,$^) $($(notdir $@)_LIBS)

deps:
	scripts/deps.sh all
deps-build:
	scripts/deps.sh build

test:
	scripts/deps.sh all
	$(MAKE) --no-print-directory all
	TIERGATE_BUILD=$(BUILD) tests/run.sh

check-asan:
	scripts/deps.sh all
	$(MAKE) --no-print-directory BUILD=build-asan SAN=1 all
	TIERGATE_BUILD=build-asan tests/run.sh --tier unit

bench:
	scripts/deps.sh all
	$(MAKE) --no-print-directory all
	TIERGATE_BUILD=$(BUILD) scripts/bench.sh

demo:
	scripts/deps.sh all
	$(MAKE) --no-print-directory all
	TIERGATE_BUILD=$(BUILD) scripts/demo.sh

fuzz:
	scripts/deps.sh build
	$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang FUZZ=1 fuzz-targets

clean:
	rm -rf build build-asan build-fuzz $(CLEAN_EXTRA)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
