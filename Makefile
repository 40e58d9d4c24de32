# aekit — make demo runs the main job, make test runs every test.
# Both install what they need on first use: the main job (build, demo, install)
# only Go's C toolchain, libhdf5 and OpenBLAS; the tests also the references
# that judge aekit (Python venv with TensorFlow/Keras, Node with ONNX Runtime).

GO        ?= go
OUT       ?= out
NODE_DIR  := tools/node
# What building and running aekit needs (cgo for libhdf5, OpenBLAS loaded at run time) ...
BUILD_PKGS := gcc libc6-dev libhdf5-dev pkg-config libopenblas-dev libopenblas0-pthread
# ... and what only the tests and benchmarks need.
TEST_PKGS  := protobuf-compiler python3-numpy python3-h5py python3-onnx python3-torch dataset-fashion-mnist zsh fish curl
# Where make install puts the command: /usr/local/bin as root, else ~/.local/bin.
PREFIX    ?= $(shell [ "$$(id -u)" = 0 ] && echo /usr/local || echo $$HOME/.local)
BINDIR    ?= $(PREFIX)/bin
# The version aekit reports and writes into its files: a tag, else devel+REVISION.
VERSION   ?= $(shell git describe --tags --dirty 2>/dev/null || { r=$$(git rev-parse --short=12 HEAD 2>/dev/null) && echo devel+$$r$$(git diff --quiet HEAD 2>/dev/null || echo -dirty); } || echo devel)
LDFLAGS   := -X github.com/aekit/aekit/internal/version.version=$(VERSION)
SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all demo test deps build-deps apt-deps apt-install node-deps py-deps build install vet fuzz bench compare clean kserve-deps bench-serve

all: build

## deps: install missing Debian packages and the test references: Node (ONNX Runtime)
## and the Python venv (TensorFlow/Keras 3, tf-keras, tf2onnx, onnx,
## onnxruntime, tritonclient). Only the tests need them; build and demo do not.
deps: apt-deps node-deps py-deps kserve-deps

## build-deps: the Debian packages that building and running aekit need.
build-deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(BUILD_PKGS)"

apt-deps:
	@$(MAKE) --no-print-directory apt-install PKGS="$(BUILD_PKGS) $(TEST_PKGS)"

## py-deps: the pinned Python reference environment in $(VENV) (git-ignored), remade when
## tools/python/requirements.txt changes. PYTHON is the interpreter that makes it.
VENV   ?= .venv
PYTHON ?= python3
py-deps: $(VENV)/.installed
$(VENV)/.installed: tools/python/requirements.txt
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { echo "installing Debian packages: python3-venv"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv >/dev/null; }
	@echo "installing the Python references in $(VENV) (tools/python/requirements.txt)"
	@rm -rf $(VENV) && $(PYTHON) -m venv $(VENV)
	@$(VENV)/bin/pip install -q --disable-pip-version-check --no-input -r tools/python/requirements.txt
	@touch $@

apt-install:
	@missing=""; for p in $(PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

node-deps:
	@# Node.js and npm: the machine's own if present (Debian's npm conflicts with other installs).
	@command -v node >/dev/null && command -v npm >/dev/null || { \
	  echo "installing Debian packages: nodejs npm"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	@if [ ! -d $(NODE_DIR)/node_modules/onnxruntime-node ]; then \
	  echo "installing Node references in $(NODE_DIR)"; \
	  cd $(NODE_DIR) && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error; \
	fi

build: build-deps
	$(GO) build -ldflags "$(LDFLAGS)" -o aekit ./cmd/aekit

## install: the command in $(BINDIR) (PREFIX=/usr/local as root, else ~/.local).
install: build
	install -d $(DESTDIR)$(BINDIR)
	install -m 0755 aekit $(DESTDIR)$(BINDIR)/aekit
	@case ":$$PATH:" in *":$(BINDIR):"*) ;; *) echo "note: $(BINDIR) is not on PATH";; esac

vet: build-deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

## test: every test, interop included (AEKIT_INTEROP=1 turns a missing reference into a failure).
test: deps vet
	AEKIT_INTEROP=1 $(GO) test -count=1 -timeout 20m ./...
	$(GO) test -count=1 -tags purego ./internal/kernel/... ./runtime/ ./train/...
	$(MAKE) --no-print-directory fuzz

## fuzz: run each decoder's fuzz target for a bounded number of executions.
## Counts, not durations: a duration -fuzztime can fail with a spurious
## "context deadline exceeded" and no crasher (golang/go#75804, fixed in Go 1.27).
## The counts take about 10-15 s per target on a 2-core machine.
FUZZ_NPY ?= 300000x
FUZZ_ONNX ?= 150000x
FUZZ_KERAS_ZIP ?= 120000x
FUZZ_KERAS_ARCH ?= 30000x
FUZZ_CKPT ?= 80000x
FUZZ_LAYERS ?= 300000x
FUZZ_VAE ?= 100000x
FUZZ_META ?= 50000x
FUZZ_H5 ?= 200000x
FUZZ_MODELFILE ?= 100000x
FUZZ_SCORE ?= 100000x
FUZZ_SERVE_HTTP ?= 100000x
FUZZ_SERVE_GRPC ?= 60000x
FUZZ_IDX ?= 100000x
FUZZ_LOADGEN ?= 50000x
FUZZ_DESCRIBE ?= 100000x
# Minimising an input that finds new coverage runs up to 60 s by default;
# a bounded run keeps its inputs as found.
FUZZ_MIN ?= 200x
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_NPY) ./npy/
	$(GO) test -run '^$$' -fuzz '^FuzzReadFile$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_NPY) ./npy/
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_ONNX) ./onnx/
	$(GO) test -run '^$$' -fuzz '^FuzzCheckMeta$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_META) ./onnx/
	$(GO) test -run '^$$' -fuzz '^FuzzReadZip$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_KERAS_ZIP) ./keras/
	$(GO) test -run '^$$' -fuzz '^FuzzArch$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_KERAS_ARCH) ./keras/
	$(GO) test -run '^$$' -fuzz '^FuzzDescribe$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_DESCRIBE) ./keras/
	$(GO) test -run '^$$' -fuzz '^FuzzReadCheckpoint$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_CKPT) ./train/
	$(GO) test -run '^$$' -fuzz '^FuzzBuild$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_LAYERS) ./train/
	$(GO) test -run '^$$' -fuzz '^FuzzParseVAE$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_VAE) ./train/
	$(GO) test -run '^$$' -fuzz '^FuzzOpen$$' -fuzztime $(FUZZ_H5) -fuzzminimizetime 1x ./internal/h5/
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_MODELFILE) ./modelfile/
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_SCORE) ./score/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeHTTP$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_SERVE_HTTP) ./serve/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeGRPC$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_SERVE_GRPC) ./serve/
	$(GO) test -run '^$$' -fuzz '^FuzzRead$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_IDX) ./internal/idx/
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeResponse$$' -fuzzminimizetime $(FUZZ_MIN) -fuzztime $(FUZZ_LOADGEN) ./internal/loadgen/

## demo: install aekit, train the classic autoencoder on the Fashion-MNIST sample in
## fixtures/data, export it to ONNX and Keras, reload both and cross-check them.
demo: install
	@sh fixtures/demo.sh $(DESTDIR)$(BINDIR)/aekit $(OUT)/demo

## bench: aekit's own speed benchmarks; compare: side by side with PyTorch and ONNX Runtime.
bench: build
	./aekit bench

compare: deps build
	sh bench/compare.sh

clean:
	rm -rf aekit $(OUT)

## kserve-deps: the serve benchmark's peer, KServe's Python model server with ONNX Runtime,
## in its own venv $(KSERVE_VENV) (git-ignored; kserve's pins clash with the reference
## venv's), remade when tools/python/kserve/requirements.txt changes (about 45 s).
KSERVE_VENV ?= .venv-kserve
kserve-deps: $(KSERVE_VENV)/.installed
$(KSERVE_VENV)/.installed: tools/python/kserve/requirements.txt
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || { echo "installing Debian packages: python3-venv"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3-venv >/dev/null; }
	@echo "installing the KServe peer in $(KSERVE_VENV) (tools/python/kserve/requirements.txt)"
	@rm -rf $(KSERVE_VENV) && $(PYTHON) -m venv $(KSERVE_VENV)
	@$(KSERVE_VENV)/bin/pip install -q --disable-pip-version-check --no-input -r tools/python/kserve/requirements.txt
	@touch $@

## bench-serve: aekit serve under load against its transport limit and the KServe peer
## (bench/serve.sh; writes bench/serve-DATE.txt).
bench-serve: build kserve-deps
	KSERVE_PY=$(KSERVE_VENV)/bin/python bash bench/serve.sh
