# make fuzz: the libFuzzer targets of tests/fuzz/ (one per parser and decoder), built with clang
# into build/fuzz (the library with -fsanitize=fuzzer-no-link,address,undefined, each target
# linked with -fsanitize=fuzzer) and run for FUZZ_SECONDS each from its seed corpus. New inputs go
# to build/fuzz/corpus/NAME, a crash's reproducer to build/fuzz/crashes/; either fails the target.
#   make fuzz                      every target, 60 s each
#   make fuzz FUZZ_SECONDS=600 FUZZ_ONLY=fuzz_config
# tests/integration/fuzz_short.sh runs the same targets for a few seconds each in `make check`.

FUZZ_BUILD   := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_ONLY    ?=
FUZZ_SRCS    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_NAMES   := $(FUZZ_SRCS:tests/fuzz/%.c=%)
FUZZ_SAN     := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
                -fno-sanitize-recover=all

.PHONY: fuzz fuzz-build fuzz-targets

# The sub-make sets BUILD, CC and SAN for the whole library, so that no object of another build
# folder is ever mixed in.
fuzz-build:
	@$(MAKE) --no-print-directory -j2 BUILD=$(FUZZ_BUILD) CC=clang OPT=-O1 SAN='$(FUZZ_SAN)' fuzz-targets

fuzz: fuzz-build
	@tests/fuzz/run.sh --build $(FUZZ_BUILD) --seconds $(FUZZ_SECONDS) $(FUZZ_ONLY)

ifeq ($(BUILD),$(FUZZ_BUILD))
# gcc-only: clang does not know -Wformat-truncation (the core build turns it off for gcc's sake).
ALL_CFLAGS := $(filter-out -Wno-format-truncation,$(ALL_CFLAGS))

FUZZ_BINS := $(FUZZ_NAMES:%=$(BUILD)/targets/%)
fuzz-targets: $(FUZZ_BINS)

$(BUILD)/targets/%: $(BUILD)/tests/fuzz/%.o $(LIB)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ $(LIBS)

.SECONDARY: $(FUZZ_SRCS:%.c=$(BUILD)/%.o)
endif
