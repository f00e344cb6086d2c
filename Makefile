# The two commands of README.md: `make demo` and `make test`. Both set up everything they need first.
SHELL := /bin/bash
.PHONY: setup demo demo-destroy test bench bench-usage

setup:
	bash hacking/setup.sh

demo: setup
	bash hacking/demo.sh create
	@echo "== models before the upgrade"; bash hacking/demo.sh models
	. hacking/env.sh && ansible-playbook upgrade-model.yml
	@echo "== models after the upgrade"; bash hacking/demo.sh models

demo-destroy:
	bash hacking/demo.sh destroy

test:
	bash hacking/test.sh

bench: setup
	. hacking/env.sh && python hacking/bench.py

bench-usage: setup
	. hacking/env.sh && python hacking/bench_usage.py
