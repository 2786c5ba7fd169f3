# Entry points for people: `make demo` and `make test` on a fresh Debian
# machine. The build itself is CMake's; this file only strings the steps together.

BUILD       ?= build
BUILD_ASAN  ?= build-asan
BUILD_FUZZ  ?= build-fuzz
BUILD_TSAN  ?= build-tsan
OUT         ?= out
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
THREADSIM   := $(BUILD)/cli/threadsim

# Warnings are errors in CI only; said explicitly so a reused build/ follows CI.
ifeq ($(CI),true)
WERROR := ON
else
WERROR := OFF
endif
CMAKE_FLAGS := -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTHREADSIM_WERROR=$(WERROR)

.PHONY: all deps build demo test test-sanitize test-tsan fuzz-short bench gallery clean

all: build

deps:
	./scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# The main job on bundled scenarios: simulate, run for real, compare, export
# the images, and open the viewer when there is a display. A new step of the
# demo is one more line.
demo: build
	mkdir -p $(OUT)
	$(THREADSIM) run scenarios/scheduling/rr_q4.json --trace $(OUT)/rr_q4.trace.json
	$(THREADSIM) run scenarios/lectures/03_bank_account_race.json --seed 10 --trace $(OUT)/bank_race.trace.json
	$(THREADSIM) run scenarios/lectures/03_bank_account_lock.json --seed 10
	$(THREADSIM) run scenarios/gil/count_threads.json --perfetto $(OUT)/gil_count_threads.perfetto.json
	$(THREADSIM) real scenarios/gil/count_threads.json --trace $(OUT)/gil_count_threads.real.json
	$(THREADSIM) compare scenarios/gil/count_threads.json --repeat 3
	$(THREADSIM) export scenarios/gil/count_threads.json -o $(OUT)/gil_count_threads.svg --to 30ms
	$(THREADSIM) export scenarios/gil/count_threads.json -o $(OUT)/gil_count_threads.png --to 30ms --width 1920
	$(THREADSIM) export scenarios/gil/count_threads.json --compare -o $(OUT)/gil_count_threads_compare.png --width 1920
	$(THREADSIM) export scenarios/gil/old_gil_battle.json -o $(OUT)/old_gil_battle.png --to 2ms --width 1920
	$(THREADSIM) export scenarios/scheduling/rr_q4.json -o $(OUT)/rr_q4.svg
	@echo "traces and timelines written to $(OUT)/"
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		echo "opening the viewer (press ? for the keys, q to quit)"; \
		$(THREADSIM) view scenarios/gil/count_threads.json --compare; \
	else \
		echo "no display: skipped the viewer; on a desktop run: $(THREADSIM) view scenarios/gil/count_threads.json --compare"; \
	fi

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-sanitize: deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DTHREADSIM_SANITIZE=ON \
		-DTHREADSIM_WERROR=$(WERROR) -DTHREADSIM_BENCH=OFF
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j $(JOBS)

# The real runner's tests under ThreadSanitizer: only what they need is built.
# die_after_fork=0: a test forks while its watcher thread runs (the children
# only run the runner's own code).
test-tsan: deps
	cmake -S . -B $(BUILD_TSAN) -DCMAKE_BUILD_TYPE=Debug -DTHREADSIM_TSAN=ON \
		-DTHREADSIM_WERROR=$(WERROR) -DTHREADSIM_BENCH=OFF
	cmake --build $(BUILD_TSAN) -j $(JOBS) --target threadsim test_host_kernels test_host_runner test_host_gil
	cd $(BUILD_TSAN) && TSAN_OPTIONS=halt_on_error=1:die_after_fork=0:second_deadlock_stack=1 \
		ctest --output-on-failure -j $(JOBS) -L host

fuzz-short: deps
	CC=clang cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTHREADSIM_FUZZ=ON \
		-DTHREADSIM_WERROR=$(WERROR) -DTHREADSIM_BENCH=OFF
	cmake --build $(BUILD_FUZZ) -j $(JOBS)
	cd $(BUILD_FUZZ) && ctest --output-on-failure -R fuzz

bench: build
	@set -e; found=0; \
	for b in $(BUILD)/bench/bench_*; do \
		[ -x "$$b" ] || continue; found=1; echo "== $$b"; "$$b"; \
	done; \
	[ $$found -eq 1 ] || echo "no benchmarks built in $(BUILD)/bench"

# docs/gallery.md: a timeline of every scenario, regenerated from scenarios/.
gallery: build
	./scripts/gallery.sh $(THREADSIM)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_FUZZ) $(BUILD_TSAN) $(OUT)
