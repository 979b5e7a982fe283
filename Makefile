# Two commands set up a fresh clone: `make demo` and `make test`. Both create .venv themselves.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
REPORTS ?= reports
## Every run here starts many pytest subprocesses (the fidelity and interop campaigns, the hostile
## campaign): with bytecode caching off (PYTHONDONTWRITEBYTECODE, set on some CI images) each one
## recompiles the harness and re-rewrites every test module, which doubles its start-up CPU
## (2.5 s -> 1.35 s for one case, measured). The caches go under .venv, not into the tree.
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX := $(abspath $(VENV))/pycache

.PHONY: demo test bench interop interop-alone fidelity stability load clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Certificates transcribed into PICS (examples/pics/) that `make demo` also runs: the full
## charge point and the CSMS one.
EXAMPLES ?= ecarplug-ac-cpt-ocpp cs-technology-charge-q-csms

## The full suite, both systems under test, against the embedded reference simulators; then the
## example certificates' configurations. Each report directory holds report.json and report.html.
## One line per test case as it ends (OCTT id, verdict, seconds, reason), then each run's result.
## Measured 2026-12-03: 11 min 49 s in all -- the charge point suite 69 s, the CSMS suite 21 s,
## ecarplug-ac-cpt-ocpp 559 s, cs-technology-charge-q-csms 17 s, ~40 s of start-ups -- using 3 %
## of a core: the time is the devices' declared timings waited for (the ecarplug certificate
## declares a 60 s triggered function timeout, and six of its cases wait it out); at load 18 the
## three short runs took 137 s instead of 107 s.
demo: $(STAMP)
	@echo "make demo: about 12 minutes -- the charge point suite ~1 min, the CSMS suite ~0.5 min," \
	  "then the example certificates (default EXAMPLES): ecarplug-ac-cpt-ocpp ~9.5 min (it waits" \
	  "its declared 60 s timeouts), cs-technology-charge-q-csms ~0.5 min. One line per test case;" \
	  "reports in $(REPORTS)/."
	@echo "== charge point suite (--ocpp-sut cs)"; \
	$(PY) -m pytest testcases --ocpp-sut cs --ocpp-report $(REPORTS)/cs -p no:cacheprovider -q; cs=$$?; \
	echo "== central system suite (--ocpp-sut csms)"; \
	$(PY) -m pytest testcases --ocpp-sut csms --ocpp-report $(REPORTS)/csms -p no:cacheprovider -q; csms=$$?; \
	examples=0; for name in $(EXAMPLES); do \
	  echo "== example certificate examples/pics/$$name.toml"; \
	  rm -f $(REPORTS)/$$name/report.pdf; \
	  $(PY) -m pytest testcases --ocpp-pics examples/pics/$$name.toml --ocpp-report $(REPORTS)/$$name \
	    --ocpp-pdf summary -p no:cacheprovider -q || examples=1; \
	done; \
	echo "reports: $(REPORTS)/cs/report.json $(REPORTS)/csms/report.json (report.html beside each)"; \
	for name in $(EXAMPLES); do \
	  if [ -f $(REPORTS)/$$name/report.pdf ]; then pdf="report.pdf"; \
	  else pdf="no report.pdf (its line above says why)"; fi; \
	  echo "  example: $(REPORTS)/$$name/report.html, $$pdf"; \
	done; \
	test $$cs -eq 0 -a $$csms -eq 0 -a $$examples -eq 0

## The harness's own tests, after ruff (pyproject.toml [tool.ruff]: pyflakes, pycodestyle, and no
## fixed sleep in testcases/ or harness/states/) and mypy (pyproject.toml [tool.mypy]: the modules
## checked so far).
test: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest tests -q -p no:cacheprovider

## The Core suites against the simulators and against independent implementations written with
## the PyPI ocpp library (interop/); the comparison goes to docs/interop.md.
interop: $(STAMP)
	$(PY) -m interop.run --reports $(REPORTS)/interop --doc docs/interop.md

## Each case alone against a freshly started implementation, compared with the full run of
## `make interop` (run first when its report is missing): the library cp, the supervised cp, the
## library csms. Measured 2026-12-04: 10 min 49 s at --jobs 2 for their 3 full runs and 153 cases
## alone (interop/alone.py).
interop-alone: $(STAMP)
	$(PY) -m interop.run --alone --jobs 2 --reports $(REPORTS)/interop --doc docs/interop.md

## The seeded-fault campaign: every catalogue fault (harness/fidelity/) against the whole suite of
## its SUT, intended cases must FAIL with their symptom, the others keep their unfaulted verdict;
## writes docs/verdict-fidelity.md. Then the false-failure entries (harness/fidelity/legal.py): the
## whole suite against each legal foreign behaviour, no FAIL allowed. `make stability` runs the
## unfaulted suites ten times.
FIDELITY_JOBS ?= 12
fidelity: $(STAMP)
	$(PY) -m harness.fidelity --full --jobs $(FIDELITY_JOBS) --workdir $(REPORTS)/fidelity; f=$$?; \
	$(PY) -m harness.fidelity.legal --full --jobs $(FIDELITY_JOBS) --workdir $(REPORTS)/fidelity-legal; \
	l=$$?; test $$f -eq 0 -a $$l -eq 0

stability: $(STAMP)
	$(PY) -m harness.fidelity --repeat 10 --jobs $(FIDELITY_JOBS) --workdir $(REPORTS)/stability

## Benchmarks: `python -m harness validate` as a whole process beside the ocpp library (and with
## --jobs 2, and where the time of --jobs 2 goes: bench_jobs.py), the cost of explaining an invalid
## frame, the Checker in-process, the harness's per-call overhead.
bench: $(STAMP)
	$(PY) bench/bench_validate_cli.py
	$(PY) bench/bench_jobs.py
	$(PY) bench/bench_explain.py
	$(PY) bench/bench_validation.py
	$(PY) bench/bench_roundtrip.py

## Conformance under load (harness/load/, README "Load"): a swarm of Locust charge points against the
## reference CSMS started as a separate process (python -m harness.sim csms), each scenario judged
## against harness/load/objectives.toml (PASS / FAIL / INCONCLUSIVE): a steady state, a boot storm,
## a rolling restart of a fifth, a blackout of 5 s with offline sessions replayed, duplicate
## identities; report.json and report.html in $(REPORTS)/load-<scenario>. Every run must PASS.
LOAD_USERS ?= 200
LOAD_TIME ?= 20
LOAD_SCENARIOS ?= steady boot-storm rolling-restart blackout duplicate-identity
load: $(STAMP)
	@failed=0; for scenario in $(LOAD_SCENARIOS); do \
	  extra="--spawn-rate 50"; test $$scenario = boot-storm && extra=""; \
	  test $$scenario = blackout && extra="--spawn-rate 50 --offline 5"; \
	  $(PY) -m harness.load.refsim --heartbeat-interval 5 -- --scenario $$scenario \
	    --users $(LOAD_USERS) --time $(LOAD_TIME) $$extra --report $(REPORTS)/load-$$scenario \
	    || failed=1; \
	done; test $$failed -eq 0

clean:
	rm -rf $(VENV) $(REPORTS)/* .pytest_cache .hypothesis
