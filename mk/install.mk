# make install / uninstall: the binary and the example configuration under $(DESTDIR)$(PREFIX).

install: $(BIN)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/doc/fleetcon
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/fleetcon
	install -m 0644 fleetcon.conf.example $(DESTDIR)$(PREFIX)/share/doc/fleetcon/fleetcon.conf.example

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/fleetcon
	rm -f $(DESTDIR)$(PREFIX)/share/doc/fleetcon/fleetcon.conf.example
	-rmdir $(DESTDIR)$(PREFIX)/share/doc/fleetcon 2>/dev/null
