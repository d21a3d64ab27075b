# fleetcon — build, test, demo, bench, install.
# Every library comes through pkg-config (Net-SNMP through net-snmp-config). Objects and binaries
# go to $(BUILD) (build/ by default; build/asan and build/tsan for the sanitizer builds).

BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

PKGS        := ncursesw sqlite3 libcurl openssl jansson zlib inih
PKG_CFLAGS  := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
SNMP_CFLAGS := $(filter -DNETSNMP%,$(shell net-snmp-config --base-cflags 2>/dev/null))
SNMP_LIBS   := $(shell net-snmp-config --netsnmp-libs 2>/dev/null)
CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null)

JOBS    ?= $(shell nproc 2>/dev/null || echo 2)
OPT     ?= -O2
SAN     ?=
CC      ?= cc
CFLAGS  ?= $(OPT) -g
# -Wformat-truncation is off: snprintf into a bounded buffer cuts on purpose here, and gcc's
# guess of what may be cut changes with the optimisation level (a build that passes at -O2 fails
# at the sanitizers' -O1).
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wno-format-nonliteral \
           -Wno-format-truncation
ALL_CFLAGS := -std=gnu11 $(WARN) $(CFLAGS) $(SAN) -D_GNU_SOURCE -I. \
              $(SNMP_CFLAGS) $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS := $(SAN) $(LDFLAGS)
LIBS    := $(SNMP_LIBS) $(PKG_LIBS) -lpthread -lm

# The library: every module but the entry point. Tests link against it.
LIB_SRCS := $(sort $(wildcard model/*.c collectors/*.c uplink/*.c exports/*.c service/*.c tui/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libfleetcon.a
BIN      := $(BUILD)/fleetcon

UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
# Test helpers shared by several unit tests (not tests themselves).
TESTLIB_SRCS := $(sort $(wildcard tests/unit/lib/*.c))
TESTLIB_OBJS := $(TESTLIB_SRCS:%.c=$(BUILD)/%.o)
# Helper programs for integration tests and benchmarks (simulator, minimal clients).
TOOL_SRCS  := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS  := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

# Tests that exercise threads: run again under ThreadSanitizer by `make check`.
TSAN_UNIT  := $(sort $(shell grep -l 'fleetcon-test: threaded' $(UNIT_SRCS) /dev/null 2>/dev/null))
TSAN_UNIT_BINS := $(TSAN_UNIT:tests/unit/%.c=build/tsan/tests/%)

.PHONY: all tests tools check check-run check-plain check-asan check-tsan unit integration \
        asan tsan demo screenshots bench install uninstall clean deps fuzz
.DEFAULT_GOAL := all

all: $(BIN)

V ?= 0
ifeq ($(V),0)
Q := @
endif

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

# Only model/version.c knows the version and revision; a stamp rebuilds it when the revision moves.
REV_STAMP := $(BUILD)/.rev-$(GIT_REV)
$(REV_STAMP):
	@mkdir -p $(BUILD)
	@rm -f $(BUILD)/.rev-*
	@touch $@
$(BUILD)/model/version.o: ALL_CFLAGS += -DFLEETCON_VERSION='"$(VERSION)"' -DFLEETCON_REV='"$(GIT_REV)"'
$(BUILD)/model/version.o: $(REV_STAMP) VERSION

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(Q)$(AR) rcs $@ $^

$(BIN): $(BUILD)/fleetcon.o $(LIB)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: $(BUILD)/tests/unit/%.o $(TESTLIB_OBJS) $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(CMOCKA_LIBS)

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# Keep the objects of tests and tools: they are not throw-away intermediates. (Not a blanket
# .SECONDARY: that would make the revision stamp below an intermediate that is never remade.)
.SECONDARY: $(UNIT_SRCS:%.c=$(BUILD)/%.o) $(TOOL_SRCS:%.c=$(BUILD)/%.o)

tests: $(BIN) $(UNIT_BINS) $(TOOL_BINS)
tools: $(TOOL_BINS)

# Sanitizer builds, each in its own folder so that they never mix objects with the plain build.
asan:
	$(MAKE) BUILD=build/asan OPT=-O1 SAN='-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' tests
tsan:
	$(MAKE) BUILD=build/tsan OPT=-O1 SAN='-fsanitize=thread' tests

deps:
	@scripts/deps.sh

# `make check`: install what is missing, then build and run everything in a fresh make (so that
# pkg-config sees the packages deps.sh just installed).
check: deps
	@$(MAKE) --no-print-directory check-run

check-run:
	@$(MAKE) --no-print-directory -j$(JOBS) tests
	@$(MAKE) --no-print-directory -j$(JOBS) asan
	@$(MAKE) --no-print-directory -j$(JOBS) tsan
	@tests/run.sh --summary-file build/test-summary \
	    --plain build --asan build/asan --tsan build/tsan \
	    --tsan-unit '$(notdir $(TSAN_UNIT_BINS))'

# Only the plain build, for a quick round while developing.
unit: tests
	@tests/run.sh --plain $(BUILD) --only unit
integration: tests
	@tests/run.sh --plain $(BUILD) --only integration

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

# Pictures of the console from a real demo run (needs aha and chromium: installed here).
screenshots: deps
	@scripts/deps.sh --extra screenshots
	@$(MAKE) --no-print-directory all
	@scripts/screenshots.sh

bench: deps
	@$(MAKE) --no-print-directory all tools
	@scripts/bench.sh

clean:
	rm -rf build

# Each area keeps its own rules in mk/NAME.mk (install, fuzz, the simulator, robustness loops).
include $(sort $(wildcard mk/*.mk))

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
