# o2s_esign: the project's commands. See README.md.
.PHONY: run test lint bench setup stop clean i18n screenshots

run:        ## Odoo with o2s_esign and demo data on http://127.0.0.1:8069 (Ctrl-C stops it)
	@scripts/run.sh

test:       ## lint + throwaway database + every test through pytest
	@scripts/test.sh $(ARGS)

lint:       ## ruff + pylint-odoo (OCA mandatory checks)
	@scripts/lint.sh

bench:      ## benchmarks: prints a table, writes bench/results.json
	@scripts/bench.sh $(ARGS)

setup:      ## install everything (venv, Odoo source, PostgreSQL cluster) without running
	@scripts/setup.sh

stop:       ## stop the private PostgreSQL cluster if a run left it running
	@bash -c 'source scripts/common.sh; pg_stop'

clean:      ## remove the virtualenv and runtime data (.venv, .run)
	@bash -c 'source scripts/common.sh; pg_stop' || true
	rm -rf .venv .run

i18n:       ## export the module's terms to i18n/o2s_esign.pot and merge them into i18n/fr.po
	@scripts/i18n.sh

screenshots: ## the README's screenshots (docs/screenshots/) from a demo database, in headless Chromium
	@scripts/screenshots.sh $(ARGS)
