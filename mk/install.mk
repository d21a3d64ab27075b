# The man page, the systemd unit, and make install / uninstall under $(DESTDIR)$(PREFIX).
# fleetcon.1 is docs/fleetcon.1.in with its KEYS section printed by docs/gen/man_keys (from the
# console's key table); the unit is dist/fleetcon.service.in with the paths of PREFIX. Both are
# built into $(BUILD) and remade when PREFIX changes (a stamp holds the PREFIX they were made for).

BINDIR  := $(PREFIX)/bin
MANDIR  := $(PREFIX)/share/man/man1
DOCDIR  := $(PREFIX)/share/doc/fleetcon
UNITDIR := $(PREFIX)/lib/systemd/system
SYSUSERSDIR := $(PREFIX)/lib/sysusers.d

MAN_PAGE  := $(BUILD)/fleetcon.1
UNIT_FILE := $(BUILD)/fleetcon.service
MAN_KEYS  := $(BUILD)/docs/gen/man_keys
# The documents worth having on a server without the source tree.
DOC_FILES := README.md docs/install.md docs/configuration.md docs/console.md docs/alerts.md \
             docs/exports.md docs/report-format.md docs/untrusted-input.md docs/service.md
# The date on the page: the last commit of its source (stable across rebuilds), today outside git.
MAN_DATE := $(shell git log -1 --format=%cs -- docs/fleetcon.1.in 2>/dev/null | grep . || date -u +%F)

.PHONY: man install-check-prefix
all: $(MAN_PAGE) $(UNIT_FILE)
tests: $(MAN_PAGE) $(UNIT_FILE)
man: $(MAN_PAGE)

# Rewritten only when PREFIX differs from the one the files were made for.
$(BUILD)/install-prefix: install-check-prefix
	@mkdir -p $(dir $@)
	@echo '$(PREFIX)' | cmp -s - $@ || echo '$(PREFIX)' >$@

$(MAN_KEYS): $(BUILD)/docs/gen/man_keys.o
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

# sed's r command puts the generated section where the @KEYS@ line is.
$(MAN_PAGE): docs/fleetcon.1.in $(MAN_KEYS) VERSION $(BUILD)/install-prefix mk/install.mk
	@$(if $(Q),echo "  MAN     $@")
	$(Q)$(MAN_KEYS) >$@.keys
	$(Q)sed -e '/^\.\\"/d' -e 's|@VERSION@|$(VERSION)|g' -e 's|@DATE@|$(MAN_DATE)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	    -e 's|@UNITDIR@|$(UNITDIR)|g' -e '/^@KEYS@$$/{r $@.keys' -e 'd;}' docs/fleetcon.1.in >$@.tmp
	$(Q)rm -f $@.keys
	$(Q)mv $@.tmp $@

$(UNIT_FILE): dist/fleetcon.service.in $(BUILD)/install-prefix mk/install.mk
	@$(if $(Q),echo "  GEN     $@")
	$(Q)sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' dist/fleetcon.service.in >$@.tmp
	$(Q)mv $@.tmp $@

# Exactly what uninstall removes: one list for both.
INSTALLED := $(BINDIR)/fleetcon $(MANDIR)/fleetcon.1 $(DOCDIR)/fleetcon.conf.example \
             $(addprefix $(DOCDIR)/,$(notdir $(DOC_FILES))) $(UNITDIR)/fleetcon.service \
             $(SYSUSERSDIR)/fleetcon.conf

install: $(BIN) $(MAN_PAGE) $(UNIT_FILE)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR) \
	    $(DESTDIR)$(SYSUSERSDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/fleetcon
	install -m 0644 $(MAN_PAGE) $(DESTDIR)$(MANDIR)/fleetcon.1
	install -m 0644 fleetcon.conf.example $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(UNIT_FILE) $(DESTDIR)$(UNITDIR)/fleetcon.service
	install -m 0644 dist/fleetcon.sysusers $(DESTDIR)$(SYSUSERSDIR)/fleetcon.conf

# Removes the files install put there, and the folders only when nothing else is in them.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null
