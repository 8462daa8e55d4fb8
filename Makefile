# Thin wrapper around CMake presets, so the README's commands work on a fresh Debian 12 machine.
#   make demo   install what is missing, build (release), run the demo
#   make test   install what is missing, build with ASan+UBSan, run every test
#   make test-nokafka   the same for a build without the Kafka transport (OCKAM_WITH_KAFKA=OFF)
#   make bench  build (release) and run the benchmarks
#   make fuzz   build the libFuzzer targets and run each for FUZZ_SECONDS
#   make chaos  build (release) and run the chaos run for CHAOS_MINUTES (root; not in CI)
#   make load   build (release) and hold 1 000 portal connections through one relay (not in CI)
.PHONY: all deps demo test test-nokafka build-release build-asan bench fuzz chaos load format format-check clean

FUZZ_SECONDS ?= 30
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)

all: build-release

deps-build:
	@scripts/install-deps.sh build
deps-test:
	@scripts/install-deps.sh test
deps-bench:
	@scripts/install-deps.sh bench

build-release: deps-build
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

build-asan: deps-test
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

demo: build-release
	@scripts/demo.sh build/release

test: build-asan
	@scripts/format-check.sh
	@ctest --preset asan -j $(JOBS)

test-nokafka: deps-test
	@cmake --preset asan-nokafka >/dev/null
	@cmake --build --preset asan-nokafka -j $(JOBS)
	@ctest --preset asan-nokafka -j $(JOBS)

bench: deps-bench build-release
	@scripts/bench.sh build/release

fuzz: deps-test
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)
	@scripts/fuzz-smoke.sh build/fuzz $(FUZZ_SECONDS)

chaos: build-release
	@scripts/chaos.sh build/release

load: build-release
	@scripts/load.sh build/release

# A build of its own, configured with the prefix (ockam.pc and the CMake package name it).
install: deps-build
	@cmake -S . -B build/install -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
		-DOCKAM_BUILD_BENCH=OFF -DOCKAM_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build build/install -j $(JOBS)
	@cmake --install build/install

deb: deps-deb
	@scripts/make-deb.sh build/deb

deps-deb:
	@scripts/install-deps.sh deb

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

format-check: deps-test
	@scripts/format-check.sh

clean:
	rm -rf build
