# The two commands the README starts with:
#   make demo   build the host and plugins and run them on a virtual router
#   make test   everything: types, lint, unit tests, the QuickJS suite, integration tests
# Both install what is missing first (Debian packages, npm ci, a real qjs).

SHELL := /bin/bash
NODE ?= node
QJS ?= .cache/qjs/bin/qjs

.PHONY: all deps native build sdk check typecheck lint generated test test-fast test-wifi test-unit demo bench bench-pirania bench-dynapoint bench-offload bench-mptcp bench-firmware firmware clean help

all: build

help:
	@echo "make demo    build and run the host with the example plugins and pirania-nftables on a lab virtual router"
	@echo "make test    typecheck, lint, generated-code check, unit + QuickJS + integration tests, then the Wi-Fi lab VM"
	@echo "make test-fast  the same without the Wi-Fi lab VM (quick local loops)"
	@echo "make test-wifi  only the Wi-Fi lab: hostapd/wpa_supplicant on mac80211_hwsim in a QEMU VM (root, <10 min)"
	@echo "make bench   boot time, hook overhead, RSS and bundle size on node and qjs"
	@echo "make bench-pirania  pirania-nftables: nft set fill, throughput through the gate, voucher → first packet (root, ~2 min)"
	@echo "make bench-dynapoint  dynapoint: uplink loss/return detection latency vs its bound, CPU per probe round, node and qjs (root, ~6 min)"
	@echo "make bench-offload  offload: datapath ns/packet (BPF_PROG_TEST_RUN), flow-setup rate and latency, lab throughput + CPU vs plain forwarding and nftables NAT (root, ~6 min)"
	@echo "make bench-mptcp  mptcp: aggregate goodput vs the sum of the paths (2/3 paths, equal/unequal, both directions), failover gap (root, ~10 min)"
	@echo "make bench-firmware  firmware-build: wrtkit build of site.example.yaml per step vs bundling alone, bundle and .ipk sizes, reproducibility (~1 min)"
	@echo "make firmware SITE=site.yaml [KEY=keys/x.sec] [IMAGEBUILDER=dir]  packages, signed feed, source feed (and images) from a site file into firmware/<site> (docs/building-firmware.md)"
	@echo "make build   bundles into build/ (host: build/wrtkit.js, plugins: build/plugins/<name>)"
	@echo "make sdk     the @wrtkit/sdk tarball for plugin authors (docs/plugin-authors.md)"
	@echo "make clean   remove build output and caches (keeps node_modules)"

deps:
	@bash scripts/setup.sh

# The QuickJS C module (sockets, fsync) for the build host: .cache/native/wrtkit-native.so
native: deps
	@$(MAKE) -s -C core/native

build: deps native
	@$(NODE) scripts/build.mjs

# The @wrtkit/sdk tarball plugin authors install (.cache/sdk-pack/wrtkit-sdk-<version>.tgz)
sdk: build
	@$(NODE) scripts/pack-sdk.mjs

typecheck: deps
	@npx tsc -p tsconfig.json

lint: deps
	@npx eslint --max-warnings 0 .

# Generated config types/validators must match their schemas.
generated: deps
	@$(NODE) core/scripts/gen-config.mjs core/schema/wrtkit.schema.json core/src/generated --type HostConfig --check
	@for d in examples/plugins/*/ plugins/*/; do \
	  [ -f "$$d/schema.json" ] || continue; \
	  (cd "$$d" && $(NODE) $(CURDIR)/sdk/bin/wrtkit.mjs gen-config --check) || exit 1; \
	done

check: typecheck lint generated

# Everything: the fast tiers, then the Wi-Fi lab (a QEMU VM with mac80211_hwsim; the image
# is built on first use and cached in .cache/wifi-vm) under its own time limit, so a hung
# boot cannot eat the whole run.
test: test-fast
	@$(MAKE) -s test-wifi

# All but the Wi-Fi lab, for quick local loops.
test-fast: deps check build
	@npx vitest run --exclude 'sdk/test/wifi/**'

test-wifi: deps build
	@timeout --kill-after=30 600 npx vitest run sdk/test/wifi

demo: build
	@$(NODE) scripts/demo.mjs

bench: build
	@$(NODE) bench/run.mjs

# pirania-nftables in lab namespaces (root; nft, dnsmasq, iperf3): one nft transaction vs
# one process per MAC, iperf3 through the gate, voucher submitted → first packet through
bench-pirania: build
	@$(NODE) bench/pirania/sets.mjs --rounds 3
	@$(NODE) bench/pirania/throughput.mjs --rounds 3 --seconds 3
	@$(NODE) bench/pirania/activation.mjs --rounds 20

# dynapoint in lab namespaces (root): a scripted outage (server stopped, link down, route
# blackholed, in turn) → switch latency against interval/timeout/thresholds, and CPU per
# probe round online and offline against the host with the rule disabled
bench-dynapoint: build
	@$(NODE) bench/dynapoint/detection.mjs --cycles 9 --cpu-rounds 10 --cpu-repeats 1

# offload (root; clang, libbpf, iperf3): (a) per-packet cost of the hit path against an
# XDP_PASS program, (b) flows offloaded per second against the stack's conntrack rate and
# first packet → fast path, (c) iperf3 through a lab router: plain forwarding, nftables NAT,
# offload TC and XDP, throughput and machine CPU per GB. veth: correctness, not line rate.
bench-offload: deps
	@$(NODE) bench/offload/testrun.mjs
	@$(NODE) bench/offload/setup.mjs
	@$(NODE) bench/offload/throughput.mjs

# mptcp (root): two lab routers joined by shaped paths; goodput through the plugin as a
# fraction of the paths' own plain-TCP goodput measured in the same run (2 and 3 paths,
# equal and unequal, both directions) and the failover gap when a path is lost
bench-mptcp: build
	@$(NODE) bench/mptcp/aggregate.mjs

# firmware-build (no root; clang for the eBPF objects): `wrtkit build` of
# firmware-build/site.example.yaml, 3 rounds, each step timed against bundling the same
# plugins alone (scripts/build.mjs) in the same run; bundle/.ipk sizes; same bytes each round
bench-firmware: deps
	@$(NODE) bench/firmware/build.mjs

# From one site file: bundles, ipk packages, a signed feed, a source feed, images with an
# ImageBuilder (firmware-build/; `wrtkit build --help`). SITE defaults to the example.
SITE ?= firmware-build/site.example.yaml
firmware: deps
	@$(NODE) firmware-build/bin/firmware.mjs build $(SITE) $(if $(KEY),--key $(KEY)) $(if $(IMAGEBUILDER),--imagebuilder $(IMAGEBUILDER)) $(if $(OUT),--out $(OUT))

clean:
	rm -rf build .cache/test-bundles .cache/e2e .cache/sdk-pack .cache/demo .cache/lab-test .cache/bench .cache/pirania-test
