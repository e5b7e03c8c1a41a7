# mailguard: one GNU Makefile, no recursion.  See README.md.

PREFIX   ?= /usr/local
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
SHAREDIR ?= $(PREFIX)/share/mailguard

# Every folder under cmd/ is one program, bin/NAME.
PROGS := $(notdir $(wildcard cmd/mg-*))

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c99 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wcast-qual -Wwrite-strings \
           -Wformat=2
HARDEN   = -fstack-protector-strong -D_FORTIFY_SOURCE=2
DEFS     = -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L
PKGCFLAGS := $(shell pkg-config --cflags libbsd-overlay ldns 2>/dev/null)
PKGLIBS   := $(shell pkg-config --libs libbsd-overlay ldns 2>/dev/null)
LDLIBS  += $(PKGLIBS) -lgdbm
build/fuzz/fuzz_prvs build/fuzz/fuzz_batvkey: LDLIBS += -lcrypto
bin/mg-wrap build/fuzz/fuzz_backend: LDLIBS += -lssl -lcrypto
build/fuzz/fuzz_spf_%: LDLIBS += -lspf2
build/fuzz/fuzz_greylist_key: LDLIBS += -lmd
build/fuzz/fuzz_greylist_key: cmd/mg-greylist/key.c
build/unit/test_dkcanon build/fuzz/fuzz_dkcanon build/fuzz/fuzz_dkverify \
    build/fuzz/fuzz_dkimtables: LDLIBS += -lcrypto
# Fuzz targets that cut their input into parts (fuzz/fuzzinput.h) link
# its object, so their .d files still list what they #include.
FUZZ_PARTS := relay backend dkverify zone dkimtables batvkey policy
$(FUZZ_PARTS:%=build/fuzz/fuzz_%): build/fuzz/fuzzinput.o

# How the checking programs link.  Each runs as one short process per
# connection, recipient or message, so its start-up counts: every shared
# library mapped and relocated costs 0.05-0.1 ms, a shared libcrypto
# about 1 ms.  So they link their libraries statically, all but libc
# (and Berkeley DB, which only libopendkim's cache code names).  ldns
# names OpenSSL from DNSSEC and TSIG code mailguard never runs: programs
# that use no OpenSSL themselves link, instead of libcrypto,
# build/nocrypto.ld, which points those names at libcommon/nocrypto.c.
# mg-wrap and mg-opensmtpd live as long as a session or the server, and
# keep OpenSSL shared; unit tests and fuzzers link the shared libraries.
# Measured with bench/screen.sh, spf.sh, dkim.sh, greylist.sh, wrap.sh.
STATIC   = -Wl,-Bstatic
DYNAMIC  = -Wl,-Bdynamic
BASELIBS = -lbsd -lmd -lgdbm
NOCRYPTO := build/nocrypto.ld build/libcommon/nocrypto.o
build/nocrypto.ld: scripts/nocrypto-ld.sh
	@mkdir -p $(@D)
	sh scripts/nocrypto-ld.sh > $@.tmp && mv $@.tmp $@
NOCRYPTO_PROGS := bin/mg-screen bin/mg-greylist bin/mg-relaycheck bin/mg-tarpit
$(NOCRYPTO_PROGS): LDLIBS = $(STATIC) -lldns $(BASELIBS) $(DYNAMIC)
$(NOCRYPTO_PROGS) bin/mg-spf: $(NOCRYPTO)
bin/mg-spf: LDLIBS = $(STATIC) -lspf2 -lldns $(BASELIBS) -lresolv $(DYNAMIC)
bin/mg-batv: LDLIBS = $(STATIC) -lcrypto $(BASELIBS) $(DYNAMIC)
bin/mg-dkim-sign: LDLIBS = $(STATIC) -lldns -lcrypto $(BASELIBS) $(DYNAMIC)
bin/mg-dkim-verify: LDLIBS = $(STATIC) -lopendkim -lldns -lcrypto $(BASELIBS) \
    -lresolv $(DYNAMIC) -ldb
# Nothing else: a shared libldns would bring libcrypto's symbols along.
build/unit/test_nocrypto: LDLIBS =
build/unit/test_nocrypto: $(NOCRYPTO)

# The rules above name no goal: `make' alone builds the programs.
.DEFAULT_GOAL := all

ifeq ($(SANITIZE),1)
CFLAGS  += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(WERROR),1)
WARN    += -Werror
endif

ALL_CFLAGS = $(WARN) $(HARDEN) $(DEFS) -Ilibcommon $(PKGCFLAGS) $(CFLAGS) -MMD -MP

LIB_SRC  := $(wildcard libcommon/*.c)
LIB_OBJ  := $(LIB_SRC:%.c=build/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/unit/%)
BINS     := $(PROGS:%=bin/%)

all: $(BINS)


# Objects are rebuilt whenever the compiler or its flags change (SANITIZE=1,
# WERROR=1, make fuzz), so bin/ never mixes objects from two builds.
FLAGSTAMP := build/.flags-$(shell printf '%s' '$(CC) $(ALL_CFLAGS) $(LDFLAGS)' | cksum | cut -d' ' -f1)
$(FLAGSTAMP):
	@mkdir -p build
	@rm -f build/.flags-*
	@touch $@

build/%.o: %.c $(FLAGSTAMP)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

build/libcommon.a: $(LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $^

.SECONDEXPANSION:
bin/%: $$(addprefix build/,$$(subst .c,.o,$$(wildcard cmd/$$*/*.c))) build/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a %.ld,$^) $(LDLIBS)

build/unit/%: build/tests/unit/%.o build/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o %.a %.ld,$^) $(LDLIBS)

unit: $(UNIT_BIN)

deps:
	@sh scripts/deps.sh

check: deps
	$(MAKE) all unit
	sh tests/run

# The build's lines go to a log, so the demo's table is what a newcomer
# reads; the log is shown when the build fails.
demo: deps
	@mkdir -p build
	@echo "demo: building the programs (log: build/demo-build.log)"
	@$(MAKE) all >build/demo-build.log 2>&1 || \
	    { tail -n 30 build/demo-build.log; exit 1; }
	@sh examples/demo/run

FUZZERS := $(patsubst fuzz/%.c,build/fuzz/%,$(wildcard fuzz/fuzz_*.c))
fuzz:
	$(MAKE) CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
	    LDFLAGS="-fsanitize=address,undefined" fuzzers
fuzzers: $(FUZZERS)
# A target links the extra .c files it names as prerequisites, but not
# those it #includes: -MMD lists them in its .d file, and linking them
# again would define every function twice on the next build.
fuzz_included = $(addprefix $(dir $(1)),$(shell sed -n 's/^\#include "\(.*\.c\)"/\1/p' $(1)))
build/fuzz/%: fuzz/%.c build/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< \
	    $(filter-out $< $(call fuzz_included,$<),$(filter %.c,$^)) \
	    $(filter %.o %.a,$^) $(LDLIBS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(SHAREDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)
	install -m 644 $(PROGS:%=man/%.1) $(DESTDIR)$(MANDIR)/man1
	install -m 644 man/mailguard.conf.5 $(DESTDIR)$(MANDIR)/man5
	install -m 644 man/mailguard.7 $(DESTDIR)$(MANDIR)/man7
	cp -R examples $(DESTDIR)$(SHAREDIR)/

README.md: man/mailguard.7 scripts/readme.sh scripts/readme-head.md scripts/readme-tail.md
	sh scripts/readme.sh > $@

lint:
	mandoc -Tlint -Wwarning man/*.[1-8]

clean:
	rm -rf bin build

.PHONY: all unit deps check demo fuzz fuzzers install lint clean
.PRECIOUS: build/%.o build/tests/unit/%.o
-include $(shell find build -name '*.d' 2>/dev/null)
