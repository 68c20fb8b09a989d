# The two commands of the README:
#   make run   builds and starts oncall-assistant on the embedded default (SQLite)
#   make test  sets up the test services and runs every test and check
.PHONY: run test lint

run:
	scripts/run

test:
	scripts/test

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
