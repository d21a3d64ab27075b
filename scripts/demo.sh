#!/usr/bin/env bash
# `make demo`: the console on a simulated fleet. The console is not built yet (it is the next
# milestone); until then this says so instead of pretending.
echo "make demo: the console is not part of this build yet."
echo "What works today: build/fleetcon --help lists the commands that do."
exit 0
