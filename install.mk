# install.mk -- the man pages (built by make), make install (PREFIX, DESTDIR) and make deb (debian/, output in $(BUILD)/).
#
#   make install [PREFIX=/usr] [DESTDIR=]   programs, units, man pages, examples, a default site file
#   make deb                                 dpkg-buildpackage -us -uc -b; tiergate_*.deb lands in $(BUILD)/
#
# The default site file is installed only where none exists: make install never
# overwrites an admin's /etc/tiergate/tiergate.conf. Users, directories and their
# owners are the package's maintainer scripts' (debian/tiergate.postinst); make
# install to / alone does not create them (README.md says how).

PREFIX     ?= /usr
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
DOCDIR     ?= $(PREFIX)/share/doc/tiergate
MANDIR     ?= $(PREFIX)/share/man
INSTALL    ?= install

# Daemons and the root-only quarantine tool go to sbin; every other program to bin.
# tiergate-verify and tiergate-sanitize --mail find tiergate-gw / tiergate-milter in
# ../sbin beside them.
SBIN_DAEMONS := tiergate-gw tiergate-spoold tiergate-milter tiergate-bridge tiergate-quarantine \
                tiergate-quarantined tiergate-portal
SBIN_PROGS    = $(filter $(SBIN_DAEMONS),$(notdir $(BINS)))
BIN_PROGS   = $(filter-out $(SBIN_PROGS),$(notdir $(BINS)))

MAN_SRCS := $(wildcard man/*.[1-8])
MANPAGES := $(MAN_SRCS:man/%=$(BUILD)/man/%)
UNITS    := $(wildcard conf/*.service)
UNIT_OUT := $(UNITS:conf/%=$(BUILD)/units/%)
EXAMPLES := $(filter-out conf/tiergate.conf,$(wildcard conf/*.conf)) conf/README.md \
            $(wildcard conf/parts/*.conf) conf/bridge/devices.conf $(wildcard conf/postfix/*.cf) \
            $(wildcard conf/ci/*.yml) $(wildcard conf/names/*.list)

# The installed paths, written into the pages and the units.
INSTALL_SUBST = sed -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
                    -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@BINDIR@|$(PREFIX)/bin|g'

# Pages and units carry the installed paths: they are made again when those change
# (make install PREFIX=/usr/local after a plain make).
INSTALL_PATHS = $(PREFIX) $(SYSCONFDIR) $(DOCDIR)
$(BUILD)/install-paths: FORCE
	@mkdir -p $(dir $@)
	@echo '$(INSTALL_PATHS)' | cmp -s - $@ || echo '$(INSTALL_PATHS)' >$@
FORCE:

.PHONY: man install deb install-list FORCE
build-all: $(MANPAGES)
man: $(MANPAGES)

# What goes where, for tests/suites/94-install-docs.sh: "bin NAME" / "sbin NAME" lines.
install-list:
	@for p in $(BIN_PROGS); do echo "bin $$p"; done
	@for p in $(SBIN_PROGS); do echo "sbin $$p"; done

# Pages are mdoc (groff reads it: nothing more to install); groff's warnings fail the build.
$(BUILD)/man/%: man/% install.mk $(BUILD)/install-paths
	@mkdir -p $(dir $@)
	$(INSTALL_SUBST) $< >$@.tmp
	@if command -v groff >/dev/null; then \
		w=$$(groff -mandoc -Tutf8 -ww -z $@.tmp 2>&1); \
		if [ -n "$$w" ]; then echo "$$w" >&2; rm -f $@.tmp; exit 1; fi; fi
	mv $@.tmp $@

# The units in conf/ name /usr/sbin and /etc: another PREFIX gets its own paths.
$(BUILD)/units/%.service: conf/%.service install.mk $(BUILD)/install-paths
	@mkdir -p $(dir $@)
	sed -e 's|/usr/sbin/|$(PREFIX)/sbin/|g' -e 's|/etc/tiergate/|$(SYSCONFDIR)/tiergate/|g' $< >$@

install: build-all $(UNIT_OUT)
	$(INSTALL) -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/examples/parts $(DESTDIR)$(DOCDIR)/examples/bridge \
		$(DESTDIR)$(DOCDIR)/examples/postfix $(DESTDIR)$(DOCDIR)/examples/ci $(DESTDIR)$(DOCDIR)/examples/names \
		$(DESTDIR)$(SYSCONFDIR)/tiergate/bridge $(DESTDIR)$(SYSCONFDIR)/tiergate/portal
	$(INSTALL) -m 0755 $(BIN_PROGS:%=$(BIN)/%) $(DESTDIR)$(PREFIX)/bin/
	$(INSTALL) -m 0755 $(SBIN_PROGS:%=$(BIN)/%) $(DESTDIR)$(PREFIX)/sbin/
	$(INSTALL) -m 0644 $(UNIT_OUT) $(DESTDIR)$(UNITDIR)/
	for p in $(MANPAGES); do s=$${p##*.}; $(INSTALL) -m 0644 $$p $(DESTDIR)$(MANDIR)/man$$s/; done
	for f in $(EXAMPLES); do $(INSTALL) -m 0644 $$f $(DESTDIR)$(DOCDIR)/examples/$${f#conf/}; done
	$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md
	$(INSTALL) -m 0644 docs/*.md $(DESTDIR)$(DOCDIR)/
	[ -e $(DESTDIR)$(SYSCONFDIR)/tiergate/tiergate.conf ] || { \
		sed 's|/etc/tiergate/|$(SYSCONFDIR)/tiergate/|g' conf/tiergate.conf \
			>$(DESTDIR)$(SYSCONFDIR)/tiergate/tiergate.conf && \
		chmod 0644 $(DESTDIR)$(SYSCONFDIR)/tiergate/tiergate.conf; }
	[ -e $(DESTDIR)$(SYSCONFDIR)/tiergate/bridge/devices.conf ] || \
		$(INSTALL) -m 0644 conf/bridge/devices-empty.conf $(DESTDIR)$(SYSCONFDIR)/tiergate/bridge/devices.conf

# dpkg-buildpackage writes its results to the parent directory unless told otherwise:
# here every file it makes goes to $(BUILD)/ (CI builds in a fresh clone and owns
# nothing outside it). debian/rules builds with this same BUILD, so what make built is
# reused, not compiled again.
DEB_VERSION = $(shell dpkg-parsechangelog -S Version 2>/dev/null)
DEB_ARCH    = $(shell dpkg --print-architecture 2>/dev/null)
DEB_OUT     = $(abspath $(BUILD))

deb: build-all
	rm -f $(DEB_OUT)/tiergate_*.deb $(DEB_OUT)/tiergate_*.changes $(DEB_OUT)/tiergate_*.buildinfo
	TIERGATE_DEB_BUILD=$(abspath $(BUILD)) dpkg-buildpackage -us -uc -b \
		--buildinfo-option=-u$(DEB_OUT) --changes-option=-u$(DEB_OUT) \
		--buildinfo-file=$(DEB_OUT)/tiergate_$(DEB_VERSION)_$(DEB_ARCH).buildinfo \
		--changes-file=$(DEB_OUT)/tiergate_$(DEB_VERSION)_$(DEB_ARCH).changes
	dh_clean   # the staging tree (debian/tiergate/, 130 MB) is in the .deb now
	@ls -l $(DEB_OUT)/tiergate_$(DEB_VERSION)_$(DEB_ARCH).deb
