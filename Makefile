# posewarper — every target first makes sure the Debian libraries are present (`deps`).
SWIFT      ?= swift
RELEASE    := -c release
TESTFLAGS  := -c release -Xswiftc -enable-testing
BIN        := .build/release/posewarper
APT_PKGS   := libavcodec-dev libavformat-dev libswscale-dev libavutil-dev libopenblas-dev libfreetype-dev \
              fonts-dejavu-core pkg-config ffmpeg
# The overlay's label font (fonts-dejavu-core); `--font` / `output.font` name another.
LABEL_FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf

.PHONY: deps build test bench demo cluster-demo parity precision accuracy soak clean

deps:
	@if ! command -v pkg-config >/dev/null 2>&1 || \
	    ! pkg-config --exists openblas libavformat libavcodec libswscale libavutil freetype2 || \
	    ! test -f $(LABEL_FONT) || \
	    ! command -v ffmpeg >/dev/null 2>&1; then \
	  echo "make deps: installing $(APT_PKGS)"; \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(APT_PKGS); \
	fi

build: deps
	$(SWIFT) build $(RELEASE) --product posewarper

# Tests run on a release build (the numeric tests are far too slow unoptimised). One build with the
# test flags serves both the tests and the `posewarper` binary the CLI tests launch.
test: deps
	$(SWIFT) build $(TESTFLAGS) --build-tests
	$(SWIFT) test $(TESTFLAGS) --skip-build

bench: deps
	$(SWIFT) build $(RELEASE)
	.build/release/posewarper-bench

# The main job on a held-out multi-person clip of the synthetic world (Tools/synthworld) with our own
# trained detector and PoseWarper (Models/), then its accuracy against the clip's ground truth.
DEMO_CLIP     := Samples/synth-demo.mp4
DEMO_PIPELINE := Models/posewarper-hrnet-w16-synth-128x96.yml
DEMO_DETECTOR := yolox-nano-synth-person

demo: deps
	$(SWIFT) build $(RELEASE) --product posewarper
	@mkdir -p out
	$(BIN) run $(DEMO_CLIP) --pipeline $(DEMO_PIPELINE) --detector $(DEMO_DETECTOR) \
	    --video out/demo.mp4 --keypoints out/demo.jsonl --trails 6
	$(BIN) evaluate --gt Samples/synth-demo.gt.json --pred out/demo.jsonl
	@echo "make demo: wrote out/demo.mp4 (annotated video) and out/demo.jsonl (keypoint stream); accuracy above."
	@echo "make demo: detector and pose models are our own, trained briefly (CPU; the neck last on a GPU; Models/README.md): far from"
	@echo "           converged. Official weights: posewarper models lists them (run --model NAME)."

# A cluster job simulated locally: N processes over the segments of the bundled clip, then
# `posewarper merge`, checked byte for byte against a single run (Samples/cluster/cluster-demo.sh).
N ?= 4
cluster-demo: deps
	$(SWIFT) build $(RELEASE) --product posewarper
	POSEWARPER=$(BIN) N=$(N) sh Samples/cluster/cluster-demo.sh

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
	$(PARITY_PY) Tools/reference/detector_parity.py --binary $(BIN) --out parity --threads 2

# Float32 precision against float64 (not part of `make test`; needs torch like `make parity`): the
# parity checkpoints run in PyTorch float64 and float32 and through `posewarper forward`; our error
# must stay within 1.5× PyTorch float32's and 1e-4 (Tools/reference/precision.py; --all for every case).
precision: deps
	@$(PARITY_PY) -c 'import torch, torchvision' >/dev/null 2>&1 || { echo "make precision: torch is not importable (run make parity once to install it into .venv)"; exit 1; }
	$(SWIFT) build $(RELEASE) --product posewarper
	$(PARITY_PY) Tools/reference/precision.py --binary $(BIN) --out parity --threads 2

# Accuracy of the shipped models on the synthetic world's test split (not part of `make test`; needs
# torch like `make parity`): the split is regenerated from its fixed seeds, then the paper's table
# (single frame, unwarped average, neck on t alone, PoseWarper; both decodings) and propagation.
ACC_DATA ?= accuracy/synthdata
ACC_CLIPS ?= 64
ACC_DETECTOR ?= Models/yolox-nano-synth-person.yml

accuracy: deps
	@if [ "$(PARITY_PY)" = ".venv/bin/python" ] && ! .venv/bin/python -c 'import torch, cv2, pycocotools' >/dev/null 2>&1; then \
	  python3 -m venv .venv && .venv/bin/pip install --quiet numpy opencv-python-headless pycocotools torch torchvision; \
	fi
	$(SWIFT) build $(RELEASE) --product posewarper
	@test -f $(ACC_DATA)/test_clean/annotations.json || \
	  $(PARITY_PY) Tools/synthworld/generate.py --out $(ACC_DATA) --test $(ACC_CLIPS) --splits test
	$(PARITY_PY) Tools/train/evaluate.py --data $(ACC_DATA) --splits test_clean,test_hard --max-videos $(ACC_CLIPS) \
	    --topdown Models/hrnet_w16_synth_128x96.pth --posewarper Models/posewarper_hrnet_w16_synth_128x96.pth \
	    --post-process default,unbiased --flip-test --detector-pipeline $(ACC_DETECTOR) --binary $(BIN) \
	    --work accuracy/detections --json accuracy/pose.json --markdown accuracy/pose.md
	$(PARITY_PY) Tools/propagation/measure_propagation.py --split $(ACC_DATA)/test_clean \
	    --pipeline Models/posewarper-hrnet-w16-synth-128x96.yml --binary $(BIN) --out accuracy/propagation --clips $(ACC_CLIPS)
	python3 Tools/accuracy/smoothing_tracking.py --video Samples/synth-demo.mp4 --gt Samples/synth-demo.gt.json \
	    --boxes Samples/synth-demo.boxes.json --pipeline Models/posewarper-hrnet-w16-synth-128x96.yml --binary $(BIN)

# Soak run (not part of `make test`; about half an hour on 2 cores): a generated 1080p video with
# audio, SOAK_MINUTES long, through the full pipeline with all four outputs; resident memory sampled
# every 10 s into soak/rss.csv, outputs checked (Tools/soak.py).
SOAK_MINUTES ?= 10

soak: deps
	$(SWIFT) build $(RELEASE) --product posewarper
	python3 Tools/soak.py --binary $(BIN) --minutes $(SOAK_MINUTES) --out soak

clean:
	rm -rf .build
