# posewarper — every target first makes sure the Debian libraries are present (`deps`).
SWIFT      ?= swift
RELEASE    := -c release
TESTFLAGS  := -c release -Xswiftc -enable-testing
BIN        := .build/release/posewarper
APT_PKGS   := libavcodec-dev libavformat-dev libswscale-dev libavutil-dev libopenblas-dev pkg-config ffmpeg

.PHONY: deps build test bench demo parity clean

deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || \
	    ! pkg-config --exists openblas libavformat libavcodec libswscale libavutil || \
	    ! command -v ffmpeg >/dev/null 2>&1; then \
	  echo "make deps: installing $(APT_PKGS)"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(APT_PKGS); \
	fi

build: deps
	$(SWIFT) build $(RELEASE) --product posewarper

# Tests run on a release build: the numeric tests are far too slow unoptimised.
test: deps
	$(SWIFT) build $(RELEASE) --product posewarper
	$(SWIFT) test $(TESTFLAGS)

bench: deps
	$(SWIFT) build $(RELEASE) --product posewarper --product posewarper-bench
	.build/release/posewarper-bench

demo: deps
	@echo "make demo: the end-to-end demo does not exist yet (see issue 5)"; exit 1

# Full-size random checkpoints built with PyTorch vs `posewarper forward` (not part of `make test`).
# Uses the system python when torch + torchvision import, else a local .venv (CPU wheels).
PARITY_PY := $(shell python3 -c 'import torch, torchvision' >/dev/null 2>&1 && echo python3 || echo .venv/bin/python)

parity: deps
	@if [ "$(PARITY_PY)" = ".venv/bin/python" ] && ! .venv/bin/python -c 'import torch, torchvision' >/dev/null 2>&1; then \
	  echo "make parity: torch is not importable; installing torch + torchvision into .venv"; \
	  python3 -m venv .venv && .venv/bin/pip install --quiet numpy && \
	  .venv/bin/pip install --quiet --index-url https://download.pytorch.org/whl/cpu torch torchvision; \
	fi
	$(SWIFT) build $(RELEASE) --product posewarper
	$(PARITY_PY) Tools/reference/parity.py --binary $(BIN) --out parity --threads 2

clean:
	rm -rf .build
