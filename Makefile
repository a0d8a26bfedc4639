# runlet: build, test and benchmark.
# `make help` lists the targets.

GO        ?= go
BIN       := $(CURDIR)/bin
TOOLS     := $(CURDIR)/.tools
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/runlet/runlet/shims.Version=$(VERSION) -X main.version=$(VERSION)
GOBUILD   := CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)"
SHIM      ?= $(BIN)/runlet-shim-runc-v2
PROTOS    := $(shell find proto -name '*.proto' 2>/dev/null)

export PATH := $(BIN):$(TOOLS):$(PATH)
# runletd embeds NRI without its WebAssembly plugin runtime (nri_no_wasm);
# every build and test here passes the tag, beside the user's GOFLAGS.
export GOFLAGS := $(shell $(GO) env GOFLAGS) -tags=nri_no_wasm

.PHONY: help deps tools build test unit integration conformance bench proto check-proto lint demo demo-shims clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: ## install the system packages the tests drive (Debian, as root)
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		runc crun busybox-static containernetworking-plugins containerd \
		protobuf-compiler criu iproute2 iptables util-linux procps
	$(GO) mod download
	@# critest's default test image needs Debian's dynamically linked busybox
	@# (integration/critest/critestimages); it conflicts with busybox-static, so
	@# it is unpacked into .tools rather than installed.
	rm -rf $(TOOLS)/busybox-dynamic && mkdir -p $(TOOLS)/busybox-dynamic
	cd $(TOOLS)/busybox-dynamic && apt-get download busybox && dpkg-deb -x busybox_*.deb . && rm -f busybox_*.deb

tools: $(TOOLS)/critest ## build the code generators and test tools into .tools/
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
	GOBIN=$(TOOLS) $(GO) install github.com/containerd/ttrpc/cmd/protoc-gen-go-ttrpc@v1.2.10
	GOBIN=$(TOOLS) $(GO) install sigs.k8s.io/cri-tools/cmd/crictl@v1.37.0
	GOBIN=$(TOOLS) $(GO) install github.com/distribution/distribution/v3/cmd/registry@v3.1.2

build: ## build the shims (and runletd) into bin/
	@mkdir -p $(BIN)
	$(GOBUILD) -o $(BIN)/runlet-shim-runc-v2 ./shims/runc-v2
	$(GOBUILD) -o $(BIN)/runlet-shim-crun ./shims/crun
	$(GOBUILD) -o $(BIN)/runletd ./daemon/cmd/runletd
	$(GOBUILD) -o $(BIN)/runlet-shimrun ./integration/cmd/runlet-shimrun
	$(GOBUILD) -o $(BIN)/runlet-bench ./integration/cmd/runlet-bench

demo: build $(TOOLS)/crictl ## runletd on its built-in defaults, a pod with a busybox container, via crictl (root)
	integration/demo/run.sh

demo-shims: build ## run a busybox container straight through each of our shims (root)
	$(BIN)/runlet-shimrun -shim $(BIN)/runlet-shim-runc-v2 -- sh -c 'echo "hello from runlet-shim-runc-v2 (runc), pid $$$$ in $$(hostname)"'
	$(BIN)/runlet-shimrun -shim $(BIN)/runlet-shim-crun -- sh -c 'echo "hello from runlet-shim-crun (crun), pid $$$$ in $$(hostname)"'

# critest is a test binary: built in a scratch module (DESIGN.md 5); skipped when present.
$(TOOLS)/critest:
	@mkdir -p $(TOOLS)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd "$$tmp" && \
	$(GO) mod init critest-build && \
	$(GO) get -t sigs.k8s.io/cri-tools/cmd/critest@v1.37.0 && \
	$(GO) test -c sigs.k8s.io/cri-tools/cmd/critest -o $(TOOLS)/critest

$(TOOLS)/crictl:
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install sigs.k8s.io/cri-tools/cmd/crictl@v1.37.0

test: build ## the whole suite: unit, wire round-trip, conformance (our shims and containerd's), interop, critest
	@# -p 1: packages share the host's iptables, host ports, SysV IPC and CNI
	@# state, and each snapshots and restores what it changes there.
	RUNLET_BIN=$(BIN) $(GO) test -p 1 -count=1 -timeout 30m ./...

unit: ## unit tests only (no root, no runtimes)
	$(GO) test -count=1 -short ./...

conformance: build ## shim conformance suite against any shim v2 binary: make conformance SHIM=/path/to/shim
	RUNLET_CONFORMANCE_SHIM=$(SHIM) $(GO) test -count=1 -timeout 20m -v ./integration/conformance/ -run 'TestConformance$$'

CONTAINERD_SHIM ?= /usr/bin/containerd-shim-runc-v2

bench: build ## benchmarks (not tests): shim latencies and memory side by side with containerd's shim, critest -benchmark on runletd beside containerd, then Go benchmarks
	$(BIN)/runlet-bench shims -n 20 -shim runlet-shim-runc-v2=$(BIN)/runlet-shim-runc-v2 \
		$(if $(wildcard $(CONTAINERD_SHIM)),-shim containerd-shim-runc-v2=$(CONTAINERD_SHIM)@runc) \
		-shim runlet-shim-crun=$(BIN)/runlet-shim-crun \
		$(if $(wildcard $(CONTAINERD_SHIM)),-shim containerd-shim-runc-v2/crun=$(CONTAINERD_SHIM)@crun)
	RUNLET_BIN=$(BIN) $(GO) test -count=1 -run '^$$' -bench 'PodLifecycle|RunletdRSS' -benchtime 20x -timeout 30m ./integration/runtime/
	RUNLET_BIN=$(BIN) RUNLET_CRITEST_BENCHMARK=1 $(GO) test -count=1 -v -run '^TestCritestBenchmark$$' -timeout 60m ./integration/critest/
	RUNLET_BIN=$(BIN) $(GO) test -count=1 -run '^$$' -bench . -benchmem -timeout 30m $$($(GO) list ./... | grep -v /integration/runtime)

# protoc-gen: run protoc (Debian's 3.21, /usr/bin/protoc) on every proto/*.proto, writing Go
# under $(1). Import paths are relative to proto/ (e.g. "types/mount.proto"), as containerd's are.
PROTOC_GO_MODULE := github.com/runlet/runlet/proto
define protoc-gen
cd proto && PATH=$(TOOLS):$$PATH protoc -I . -I /usr/include \
	--go_out=$(1) --go_opt=module=$(PROTOC_GO_MODULE) \
	--go-ttrpc_out=$(1) --go-ttrpc_opt=module=$(PROTOC_GO_MODULE) \
	$(sort $(patsubst proto/%,%,$(PROTOS)))
endef

proto: tools ## regenerate the checked-in Go code from proto/*.proto
	$(call protoc-gen,.)

check-proto: tools ## fail when the checked-in generated code differs from what proto/*.proto generate
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(call protoc-gen,$$tmp) && cd $(CURDIR) && \
	(cd "$$tmp" && find . -name '*.pb.go' | sort) >"$$tmp/want.list" && \
	(cd proto && find . -name '*.pb.go' | sort) >"$$tmp/have.list" && \
	drift=0 && \
	{ diff -u "$$tmp/have.list" "$$tmp/want.list" || drift=1; } && \
	for f in $$(cat "$$tmp/want.list"); do \
		[ ! -f "proto/$$f" ] || cmp -s "$$tmp/$$f" "proto/$$f" || { echo "differs: proto/$${f#./}"; drift=1; }; \
	done && \
	if [ $$drift -ne 0 ]; then echo "proto/: generated code is out of date; run make proto"; exit 1; fi

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '\.pb\.go$$')); [ -z "$$out" ] || (echo "gofmt: $$out" && exit 1)
	$(GO) vet ./...

clean: ## remove build output
	rm -rf $(BIN)
