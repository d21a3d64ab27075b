# Robustness loops too long for the suite (issue 9): `make crash` kills fleetcon with SIGKILL at
# random moments during discovery, poll, upload and export CRASH_ROUNDS times (the suite's
# tests/integration/robust_crash.sh runs 20). CRASH_SEED replays one sequence of kills.

CRASH_ROUNDS ?= 200

.PHONY: crash
crash: $(BIN) $(TOOL_BINS)
	@FLEETCON=$(abspath $(BIN)) FLEETCON_BUILD=$(abspath $(BUILD)) CRASH_ROUNDS=$(CRASH_ROUNDS) \
	    $(if $(CRASH_SEED),CRASH_SEED=$(CRASH_SEED)) bash tests/integration/robust_crash.sh
