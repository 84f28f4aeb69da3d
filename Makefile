# memmon: the commands a developer and CI use. CMake does the building.
#
#   make demo      install what is missing, build, run the demo
#   make test      install what is missing, build (warnings are errors),
#                  run every test, then again under ASan+UBSan and TSan
#   make build     optimised build with debug info into build/
#   make bench     run the benchmarks and the detection evaluation
#                  (results: docs/benchmarks.md, docs/detection.md)
#   make fuzz      fuzz each parser for FUZZ_SECONDS (clang, libFuzzer)
#   make install PREFIX=DIR
#   make format    clang-format every source file
#   make lint      fail on a clang-format difference or an include that
#                  points up the pipeline (make test runs it first)

BUILD   ?= build
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc)
CMAKE_FLAGS ?=
GENERATOR := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")

CLANG_FORMAT ?= $(shell command -v clang-format-14 || echo clang-format)
CLANG_CXX ?= $(shell command -v clang++-14 || echo clang++)

.PHONY: all build deps lint test test-release test-asan test-tsan test-fuzz fuzz demo bench install format clean

all: build

deps:
	@scripts/install-deps

# configure(dir, extra flags)
define configure
	@if [ ! -f $(1)/CMakeCache.txt ]; then \
	  cmake -S . -B $(1) $(GENERATOR) $(2) $(CMAKE_FLAGS) >/dev/null; \
	else \
	  cmake $(1) $(2) >/dev/null; \
	fi
endef

build:
	$(call configure,$(BUILD),-DCMAKE_BUILD_TYPE=RelWithDebInfo)
	cmake --build $(BUILD) -j $(JOBS)

test: deps lint test-release test-asan test-tsan test-fuzz
	@echo "make test: all suites passed"

test-release:
	$(call configure,$(BUILD),-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMMON_WERROR=ON)
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure

test-asan:
	$(call configure,$(BUILD)-asan,-DCMAKE_BUILD_TYPE=Debug -DMEMMON_WERROR=ON -DMEMMON_SANITIZE=address$(,)undefined -DMEMMON_BUILD_BENCH=OFF)
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ctest -j $(JOBS) --output-on-failure

test-tsan:
	$(call configure,$(BUILD)-tsan,-DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMMON_WERROR=ON -DMEMMON_SANITIZE=thread -DMEMMON_BUILD_BENCH=OFF)
	cmake --build $(BUILD)-tsan -j $(JOBS)
	cd $(BUILD)-tsan && TSAN_OPTIONS="halt_on_error=1 suppressions=$(CURDIR)/tests/tsan.supp" ctest -j $(JOBS) --output-on-failure

# A short, bounded fuzz run of each parser (their seed corpora are also unit
# tests). `make fuzz FUZZ_SECONDS=600` for a longer one. Targets: src/*/*_fuzz.cc,
# seeds: tests/fuzz/NAME/.
FUZZ_SECONDS ?= 20
FUZZ_TARGETS := samples_csv procfs pprof memory_limit rss_breakdown
test-fuzz: fuzz

fuzz:
	$(call configure,$(BUILD)-fuzz,-DCMAKE_BUILD_TYPE=Debug -DMEMMON_FUZZ=ON -DMEMMON_BUILD_TESTS=OFF -DMEMMON_BUILD_BENCH=OFF -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14)
	cmake --build $(BUILD)-fuzz -j $(JOBS) --target $(addsuffix _fuzz,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(BUILD)-fuzz/corpus-$$t; \
	  $(BUILD)-fuzz/bin/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	    -artifact_prefix=$(BUILD)-fuzz/$$t- -print_final_stats=1 \
	    $(BUILD)-fuzz/corpus-$$t tests/fuzz/$$t >$(BUILD)-fuzz/$$t.log 2>&1 \
	    || { tail -40 $(BUILD)-fuzz/$$t.log; exit 1; }; \
	  grep -E '^stat::number_of_executed_units' $(BUILD)-fuzz/$$t.log; \
	  echo "fuzz: $$t, $(FUZZ_SECONDS) s, no crash"; \
	done

demo: deps build
	@scripts/demo $(BUILD)

bench: build
	$(BUILD)/bin/sample_benchmark --benchmark_min_time=0.2
	$(BUILD)/bin/object_counter_benchmark --benchmark_min_time=0.2
	$(BUILD)/bin/detect_benchmark --benchmark_min_time=0.2
	$(BUILD)/bin/fs_benchmark --benchmark_min_time=0.2
	$(BUILD)/bin/http_benchmark --benchmark_min_time=0.2
	$(BUILD)/bin/corpus_eval tests/corpus

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Sources (tracked, and new files git does not ignore) are formatted by
# .clang-format (clang-format 14, Debian's); the
# vendored third_party/ is not ours to format.
FORMAT_FILES = $$(git ls-files --cached --others --exclude-standard '*.h' '*.c' '*.cc' ':!:third_party/*')

format:
	$(CLANG_FORMAT) -i $(FORMAT_FILES)

lint:
	@$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES) \
	  || { echo "make lint: run 'make format' and commit the result" >&2; exit 1; }
	@echo "lint: clang-format clean"
	@scripts/check-layers
	@# Clang's thread-safety analysis over every file that uses the annotated
	@# locks (src/base/mutex.h); g++ ignores the annotations. The one
	@# definition the build gives such a file (src/cli/run.cc) is given here.
	@for f in $$(git grep -l '"base/mutex.h"' -- 'src/*.cc'); do \
	  $(CLANG_CXX) -std=c++20 -fsyntax-only -Wthread-safety -Werror \
	    -Iinclude -Isrc -DMEMMON_BIN_TO_LIB='"../lib"' $$f || exit 1; \
	done
	@echo "lint: thread-safety analysis clean"

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(BUILD)-fuzz

, := ,
