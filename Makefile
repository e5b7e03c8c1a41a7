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
bin/mg-batv build/fuzz/fuzz_prvs: LDLIBS += -lcrypto
bin/mg-wrap: LDLIBS += -lssl -lcrypto
# ldns drags in the whole shared libcrypto (1 ms of every start) for
# DNSSEC and TSIG code mailguard never runs.  mg-spf and mg-greylist use
# no OpenSSL themselves: they link libldns statically and, instead of
# libcrypto, build/nocrypto.ld, which points ldns's OpenSSL references at
# libcommon/nocrypto.c.  libspf2, libbsd, libmd, libgdbm and libresolv
# are linked statically too: each shared library mapped and relocated
# cost 0.05-0.1 ms of a 3.5 ms check (bench/spf.sh).
NOCRYPTO := build/nocrypto.ld build/libcommon/nocrypto.o
build/nocrypto.ld: scripts/nocrypto-ld.sh
	@mkdir -p $(@D)
	sh scripts/nocrypto-ld.sh > $@.tmp && mv $@.tmp $@
bin/mg-spf: PKGLIBS :=
bin/mg-spf: LDLIBS = -Wl,-Bstatic -lspf2 -lldns -lbsd -lmd -lgdbm -lresolv -Wl,-Bdynamic
bin/mg-spf: $(NOCRYPTO)
# Nothing else: a shared libldns would bring libcrypto's symbols along.
build/unit/test_nocrypto: LDLIBS =
build/unit/test_nocrypto: $(NOCRYPTO)
build/fuzz/fuzz_spf_%: LDLIBS += -lspf2

# Per-program libraries.  mg-greylist runs once per recipient and must
# start in well under a millisecond: loading libldns and libcrypto
# dynamically costs over 1 ms of relocations per process, so it links
# ldns (and the rest but libc) statically, without libcrypto as above.
bin/mg-greylist: LDLIBS = -Wl,-Bstatic -lldns -lbsd -lmd -lgdbm -Wl,-Bdynamic
bin/mg-greylist: $(NOCRYPTO)
# mg-screen is the first step of every connection: the same, for the same
# reason (bench/screen.sh).
bin/mg-screen: LDLIBS = -Wl,-Bstatic -lldns -lbsd -lmd -lgdbm -Wl,-Bdynamic
bin/mg-screen: $(NOCRYPTO)
build/fuzz/fuzz_greylist_key: LDLIBS += build/libcommon.a -lbsd -lmd
build/fuzz/fuzz_greylist_key: cmd/mg-greylist/key.c

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

# A verification per incoming message: libopendkim, ldns and libcrypto
# linked statically save the 1 ms their shared objects cost each start
# (bench/wrap.sh); Berkeley DB, which libopendkim's cache code names,
# stays shared.
bin/mg-dkim-verify: PKGLIBS :=
bin/mg-dkim-verify: LDLIBS = -Wl,-Bstatic -lopendkim -lldns -lcrypto -lbsd -lmd -lgdbm -lresolv -Wl,-Bdynamic -ldb
# A signature per outgoing message: libcrypto linked statically saves the
# 0.8 ms its relocations cost each start (bench/dkim.sh, 10 KB).
bin/mg-dkim-sign: PKGLIBS := -lbsd -Wl,-Bstatic -lldns -lcrypto -Wl,-Bdynamic
build/unit/test_dkcanon build/fuzz/fuzz_dkcanon: LDLIBS += -lcrypto

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

demo: deps
	$(MAKE) all
	sh examples/demo/run

FUZZERS := $(patsubst fuzz/%.c,build/fuzz/%,$(wildcard fuzz/fuzz_*.c))
fuzz:
	$(MAKE) CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" \
	    LDFLAGS="-fsanitize=address,undefined" fuzzers
fuzzers: $(FUZZERS)
build/fuzz/%: fuzz/%.c build/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(filter %.a,$^) $(LDLIBS)

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
