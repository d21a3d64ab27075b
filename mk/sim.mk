# The printer simulator and its ceiling client (tests/sim/): plain C on Net-SNMP's ASN.1 code,
# without the fleetcon library. Built with the tools (so `make bench` and the test suite have
# them) into $(BUILD)/sim/.

SIM_SRCS := $(sort $(wildcard tests/sim/*.c))
SIM_BINS := $(SIM_SRCS:tests/sim/%.c=$(BUILD)/sim/%)

$(BUILD)/sim/%: $(BUILD)/tests/sim/%.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(SNMP_LIBS)

$(BUILD)/tests/sim/sim.o: ALL_CFLAGS += -DSIM_SOURCE_DIR='"$(CURDIR)"'

.SECONDARY: $(SIM_SRCS:%.c=$(BUILD)/%.o)

tools: $(SIM_BINS)
tests: $(SIM_BINS)
sim: $(SIM_BINS)
.PHONY: sim

# `make bench` measures the build it has just made ($(BUILD): build/ unless given).
bench: export FLEETCON_BUILD = $(abspath $(BUILD))
bench: export FLEETCON = $(abspath $(BIN))
