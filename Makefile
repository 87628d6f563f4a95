# PCI/vfio-pci Live Update: harness around the patch series in series/.
# See README.md.  WORK (default ./work) holds the kernel tree and build.

WORK ?= $(CURDIR)/work
export WORK
SELFTESTS = $(WORK)/linux/tools/testing/selftests/pci_liveupdate

.PHONY: all deps base tree export series-status build checkpatch check check-each negative demo bench clean selftest-harness

all: build

deps:
	@scripts/deps.sh

base: deps
	@scripts/fetch-base.sh $${CACHE_DIR:-$$HOME/.cache/pci-liveupdate}/src

# Applying the series needs git and the base only: no QEMU, no root.
tree:
	@scripts/series.sh tree

export:
	@scripts/series.sh export

series-status:
	@scripts/series.sh status

build: deps tree
	@scripts/build.sh

checkpatch:
	@scripts/checkpatch.sh

check: deps
	@scripts/check.sh

demo: build
	@scripts/demo.sh

# Numbers, not a test: prints a table and writes it into README.md.
bench: build
	@scripts/bench.sh

# The harness itself, as a newcomer meets it (deep path, other git identity).
selftest-harness: build
	@scripts/selftest-harness.sh

clean:
	rm -rf $(WORK)/build $(WORK)/vmtest

# Every patch of the series builds on its own (W=1 and sparse on touched files).
check-each: build
	@scripts/check-each.sh

# Each fix of negative/controls taken out: its check must fail, for its reason.
negative: deps
	@scripts/negative.sh
