# Convenience wrapper; dev.sh does the work (and needs no make on a fresh machine).
.PHONY: setup run test bpf
setup: ; ./dev.sh setup
run: ; ./dev.sh run
test: ; ./dev.sh test
bpf: ; $(MAKE) -C src/tercel/driver/bpf
