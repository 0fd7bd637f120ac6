# fragreplay - replay page-allocator traces against superpageblock policies.
#
#   make demo      install missing Debian packages, build, replay traces/ with
#                  every shipped policy, write results/demo/*.json and an HTML report
#   make test      install missing packages, build, run every test
#   make test SAN=1  the same under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench     throughput and memory figures (never part of `make test`)
#   make install   binary, policies, header and fragreplay.pc under $(PREFIX)

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
POLDIR  ?= $(LIBDIR)/fragreplay/policies
PCDIR   ?= $(LIBDIR)/pkgconfig
VERSION := 0.1.0

ifeq ($(SAN),1)
B       ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT     ?= -O1
else
B       ?= build
SANFLAGS :=
OPT     ?= -O2
endif

PKGS    := libtracecmd libtracefs libtraceevent libzstd jansson
CC      ?= cc
WARN    := -std=c11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CPPFLAGS += -D_GNU_SOURCE -Iparsers -Ireplay -Iresults -DFR_POLICY_DIR='"$(POLDIR)"' -DFR_VERSION='"$(VERSION)"'
CFLAGS  ?= $(OPT) -g
CFLAGS  += $(WARN) $(SANFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -ldl -lpthread -lm
LDFLAGS += $(SANFLAGS)

PARSER_SRC := $(sort $(wildcard parsers/*.c))
REPLAY_SRC := $(filter-out replay/main.c,$(sort $(wildcard replay/*.c)))
RESULT_SRC := $(sort $(wildcard results/*.c))
LIB_OBJ    := $(patsubst %.c,$(B)/%.o,$(PARSER_SRC) $(REPLAY_SRC) $(RESULT_SRC))
POLICIES   := $(patsubst policies/%.c,$(B)/policies/%.so,$(sort $(wildcard policies/*.c)))
TEST_SRC   := $(sort $(wildcard tests/test_*.c))
TESTS      := $(patsubst tests/%.c,$(B)/tests/%,$(TEST_SRC))

.PHONY: all deps demo test check-tests bench install clean update-baseline fuzz
all: $(B)/fragreplay $(POLICIES)

deps:
	@sh .ci/deps.sh

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/libfragreplay.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/fragreplay: $(B)/replay/main.o $(B)/libfragreplay.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Each policy is its own shared object, built against the public header only
# (and the policies' own header-only helpers, policies/*.h, e.g. upstream.h;
# those are compiled into each .so, not built or installed on their own).
POLICY_HDR := $(sort $(wildcard policies/*.h))
$(B)/policies/%.so: policies/%.c replay/fragreplay-policy.h $(POLICY_HDR)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(OPT) -g $(SANFLAGS) -fPIC -shared -Ireplay -o $@ $<

$(B)/tests/%: tests/%.c tests/fr_test.h tests/fuzz/targets.h $(B)/libfragreplay.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(shell pkg-config --cflags cmocka) -o $@ $< \
		$(B)/libfragreplay.a $(LDFLAGS) $(LDLIBS) $(shell pkg-config --libs cmocka)

test: deps
	@$(MAKE) --no-print-directory check-tests

check-tests: all $(TESTS)
	@B=$(B) sh tests/run.sh $(TESTS)

demo: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) sh tests/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@B=$(B) sh tests/bench.sh

# Rewrite results/baselines/ on purpose (make test fails on any difference).
update-baseline: all
	@B=$(B) sh tests/baseline.sh update

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(POLDIR) $(DESTDIR)$(INCDIR)/fragreplay $(DESTDIR)$(PCDIR)
	install -m 755 $(B)/fragreplay $(DESTDIR)$(BINDIR)/
	install -m 755 $(POLICIES) $(DESTDIR)$(POLDIR)/
	install -m 644 replay/fragreplay-policy.h $(DESTDIR)$(INCDIR)/fragreplay/
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@INCDIR@|$(INCDIR)|; s|@POLDIR@|$(POLDIR)|; s|@VERSION@|$(VERSION)|' \
		replay/fragreplay.pc.in > $(DESTDIR)$(PCDIR)/fragreplay.pc

fuzz:
	@sh .ci/deps.sh clang libclang-rt-14-dev
	@sh tests/fuzz/run.sh

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(B) -name '*.d' 2>/dev/null)
