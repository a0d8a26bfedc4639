# runlet: build, test and benchmark.
# `make help` lists the targets.

GO        ?= go
BIN       := $(CURDIR)/bin
TOOLS     := $(CURDIR)/.tools
# Every binary reports one semver version: the release constant of
# daemon/internal/cri/version.go with the commit as build metadata
# (0.1.0+3d84577), as runletd's CRI Version answers (kubelet parses it).
RELEASE   := $(shell sed -n 's/^const ReleaseVersion = "\(.*\)"$$/\1/p' daemon/internal/cri/version.go)
COMMIT    ?= $(shell git describe --always --dirty --exclude '*' 2>/dev/null)
VERSION   := $(RELEASE)+$(or $(COMMIT),unknown)
LDFLAGS   := -s -w -X github.com/runlet/runlet/shims.Version=$(VERSION) -X main.commit=$(COMMIT)
GOBUILD   := CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)"
SHIM      ?= $(BIN)/runlet-shim-runc-v2
PROTOS    := $(shell find proto -name '*.proto' 2>/dev/null)

export PATH := $(BIN):$(TOOLS):$(PATH)
# runletd embeds NRI without its WebAssembly plugin runtime (nri_no_wasm);
# every build and test here passes the tag, beside the user's GOFLAGS.
export GOFLAGS := $(shell $(GO) env GOFLAGS) -tags=nri_no_wasm

# Pinned versions of the generators and of the tools the tests drive.
PROTOC_GEN_GO_VERSION    := v1.36.12
PROTOC_GEN_TTRPC_VERSION := v1.2.10
CRI_TOOLS_VERSION        := v1.37.0
REGISTRY_VERSION         := v3.1.2
# kubelet, kube-apiserver and kubectl for integration/kubelet; the staging
# modules (k8s.io/api, ...) are published as v0.MINOR.PATCH of the release.
KUBE_VERSION             := v1.37.2
KUBE_STAGING_VERSION     := v0$(patsubst v1%,%,$(KUBE_VERSION))
KUBE_TOOLS := $(TOOLS)/kubelet $(TOOLS)/kube-apiserver $(TOOLS)/kubectl
TEST_TOOLS := $(TOOLS)/crictl $(TOOLS)/registry $(TOOLS)/critest $(KUBE_TOOLS)

.PHONY: help deps tools generators build test unit integration conformance bench soak proto check-proto lint demo demo-shims clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

deps: ## install the system packages the tests drive (Debian, as root)
	apt-get update
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		runc crun busybox-static containernetworking-plugins containerd \
		protobuf-compiler libprotobuf-dev criu iproute2 iptables util-linux procps \
		etcd-server
	$(GO) mod download
	@# critest's default test image needs Debian's dynamically linked busybox
	@# (integration/critest/critestimages); it conflicts with busybox-static, so
	@# it is unpacked into .tools rather than installed.
	rm -rf $(TOOLS)/busybox-dynamic && mkdir -p $(TOOLS)/busybox-dynamic
	cd $(TOOLS)/busybox-dynamic && apt-get download busybox && dpkg-deb -x busybox_*.deb . && rm -f busybox_*.deb

tools: generators $(TOOLS)/critest $(KUBE_TOOLS) ## build the code generators and test tools into .tools/
	GOBIN=$(TOOLS) $(GO) install sigs.k8s.io/cri-tools/cmd/crictl@$(CRI_TOOLS_VERSION)
	GOBIN=$(TOOLS) $(GO) install github.com/distribution/distribution/v3/cmd/registry@$(REGISTRY_VERSION)

generators: ## build protoc-gen-go and protoc-gen-go-ttrpc into .tools/
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install github.com/containerd/ttrpc/cmd/protoc-gen-go-ttrpc@$(PROTOC_GEN_TTRPC_VERSION)

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

# critest is a test binary: built in a scratch module (ARCHITECTURE.md §5); skipped when present.
$(TOOLS)/critest:
	@mkdir -p $(TOOLS)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd "$$tmp" && \
	$(GO) mod init critest-build && \
	$(GO) get -t sigs.k8s.io/cri-tools/cmd/critest@$(CRI_TOOLS_VERSION) && \
	$(GO) test -c sigs.k8s.io/cri-tools/cmd/critest -o $(TOOLS)/critest

# kubelet, kube-apiserver and kubectl, built from the Go module proxy. A
# module requiring k8s.io/kubernetes cannot follow its `replace
# ./staging/...` lines, so a scratch module replaces each staging module
# with its published release; the version is stamped as a release build's
# is (else kubelet reports v0.0.0-master). Skipped when present.
KUBE_LDFLAGS := -s -w -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
	-X k8s.io/component-base/version.gitMajor=1 \
	-X k8s.io/component-base/version.gitMinor=$(word 2,$(subst ., ,$(KUBE_VERSION))) \
	-X k8s.io/component-base/version.gitTreeState=clean
KUBE_CMDS := k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
$(KUBE_TOOLS) &:
	@mkdir -p $(TOOLS)
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cd "$$tmp" && \
	$(GO) mod init kube-build && \
	$(GO) mod download k8s.io/kubernetes@$(KUBE_VERSION) && \
	staging=$$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/.*#\1#p' \
		"$$($(GO) env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$(KUBE_VERSION).mod") && \
	if [ -z "$$staging" ]; then echo "no staging replaces in k8s.io/kubernetes@$(KUBE_VERSION)'s go.mod" >&2; exit 1; fi && \
	for m in $$staging; do \
		$(GO) mod edit -replace=$$m=$$m@$(KUBE_STAGING_VERSION) || exit 1; \
	done && \
	$(GO) get $(addsuffix @$(KUBE_VERSION),$(KUBE_CMDS)) && \
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(KUBE_LDFLAGS)" -o $(TOOLS)/ $(KUBE_CMDS)

$(TOOLS)/crictl:
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install sigs.k8s.io/cri-tools/cmd/crictl@$(CRI_TOOLS_VERSION)

$(TOOLS)/registry:
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install github.com/distribution/distribution/v3/cmd/registry@$(REGISTRY_VERSION)

# The tools the tests drive are built when missing, so that `make deps` then
# `make test` is the whole set-up: a missing tool would skip its tests.
test: build $(TEST_TOOLS) ## the whole suite: unit, wire round-trip, conformance (our shims and containerd's), interop, critest
	@# -p 1: packages share the host's iptables, host ports, SysV IPC and CNI
	@# state, and each snapshots and restores what it changes there.
	RUNLET_BIN=$(BIN) $(GO) test -p 1 -count=1 -timeout 30m ./...

unit: ## unit tests only (no root, no runtimes)
	$(GO) test -count=1 -short ./...

# The same command a runtime author runs with `go run .../runlet-conformance@VERSION`.
conformance: build ## shim conformance suite against any shim v2 binary: make conformance SHIM=/path/to/shim [CONFORMANCE_FLAGS='-run task/ -junit report.xml']
	$(GO) run ./integration/cmd/runlet-conformance -shim $(SHIM) $(CONFORMANCE_FLAGS)

CONTAINERD_SHIM ?= /usr/bin/containerd-shim-runc-v2

bench: build ## benchmarks (not tests): shim latencies and memory side by side with containerd's shim, critest -benchmark on runletd beside containerd, then Go benchmarks
	$(BIN)/runlet-bench shims -n 20 -shim runlet-shim-runc-v2=$(BIN)/runlet-shim-runc-v2 \
		$(if $(wildcard $(CONTAINERD_SHIM)),-shim containerd-shim-runc-v2=$(CONTAINERD_SHIM)@runc) \
		-shim runlet-shim-crun=$(BIN)/runlet-shim-crun \
		$(if $(wildcard $(CONTAINERD_SHIM)),-shim containerd-shim-runc-v2/crun=$(CONTAINERD_SHIM)@crun)
	RUNLET_BIN=$(BIN) $(GO) test -count=1 -run '^$$' -bench 'PodLifecycle|RunletdRSS' -benchtime 20x -timeout 30m ./integration/runtime/
	RUNLET_BIN=$(BIN) RUNLET_CRITEST_BENCHMARK=1 $(GO) test -count=1 -v -run '^TestCritestBenchmark$$' -timeout 60m ./integration/critest/
	RUNLET_BIN=$(BIN) $(GO) test -count=1 -run '^$$' -bench . -benchmem -timeout 30m $$($(GO) list ./... | grep -v /integration/runtime)

SOAK_CYCLES ?= 1000

soak: build $(TOOLS)/crictl ## not in CI: 1000 pod cycles (SOAK_CYCLES=N to change), 8 in flight, runc and crun; prints runletd's fds, threads and RSS before and after
	RUNLET_BIN=$(BIN) RUNLET_CHURN_CYCLES=$(SOAK_CYCLES) $(GO) test -count=1 -v -timeout 180m \
		-run '^TestPodChurnLeavesNoDescriptorsThreadsMemoryOrHostState$$' ./integration/reliability/

# protoc-gen: run protoc (Debian's 3.21, /usr/bin/protoc) on every proto/*.proto, writing Go
# under $(1). Import paths are relative to proto/ (e.g. "types/mount.proto"), as containerd's are.
# useregistry then makes the messages register in proto/registry, not globally, so that a
# program may link both proto/ and containerd's API module (proto/doc.go).
PROTOC_GO_MODULE := github.com/runlet/runlet/proto
define protoc-gen
cd proto && PATH=$(TOOLS):$$PATH protoc -I . -I /usr/include \
	--go_out=$(1) --go_opt=module=$(PROTOC_GO_MODULE) \
	--go-ttrpc_out=$(1) --go-ttrpc_opt=module=$(PROTOC_GO_MODULE) \
	$(sort $(patsubst proto/%,%,$(PROTOS))) && \
	$(GO) run $(CURDIR)/proto/internal/cmd/useregistry $(1)
endef

proto: generators ## regenerate the checked-in Go code from proto/*.proto
	$(call protoc-gen,.)

check-proto: generators ## fail when the checked-in generated code differs from what proto/*.proto generate
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
