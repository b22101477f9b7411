# Two commands do all the set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test quick test-homeassistant test-clocks bench bench-quick lint clean system-packages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,proxy]'
	touch $(STAMP)

# The dashboard on the simulated roller, with the built-in defaults and a demo database: no
# hardware, no broker, nothing of yours touched. Its person rolls as taught (2-4 s a stroke)
# and strays into the lumbar band once, half a minute in (seed 1): one caution, one alert.
demo: $(STAMP)
	$(BIN)/roller --config config/roller.toml --db $(VENV)/demo.db dashboard --sim \
	  --routine upper_back --scenario stray --seed 1 --seconds 240 --speed 2

# The MQTT tests run a real broker; openssl makes their TLS certificates. The report's tests
# open it in a real headless browser (Debian's chromium). systemd-analyze verifies the
# gateway's unit (config/roller-gateway.service).
system-packages:
	@command -v mosquitto >/dev/null || test -x /usr/sbin/mosquitto && command -v mosquitto_sub >/dev/null \
	  || { $(SUDO) apt-get update -q && \
	       DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q mosquitto mosquitto-clients openssl; }
	@command -v chromium >/dev/null \
	  || { $(SUDO) apt-get update -q && \
	       DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }
	@command -v systemd-analyze >/dev/null \
	  || { $(SUDO) apt-get update -q && \
	       DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q systemd; }

test: $(STAMP) system-packages
	$(BIN)/ruff check tracker firmware_sim dashboards tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest
	$(MAKE) --no-print-directory bench-quick

# The tests that start nothing (no broker, browser, Bluetooth link or roller process, no
# real timeout): seconds, for the edit-test loop. make test runs everything.
quick: $(STAMP)
	$(BIN)/pytest -m "not (broker or browser or bluetooth or cli or slow)"

# The tests against a real Home Assistant (tests/test_homeassistant_real.py), building its
# venv first if it is not there (~/.cache/roller-ha: Python 3.13 from pyenv, PyPI, 36 s
# here). make test runs them only where that venv already exists, and skips them otherwise.
test-homeassistant: $(STAMP) system-packages
	ROLLER_TEST_HOMEASSISTANT=1 $(BIN)/pytest -m homeassistant

# The whole suite on clocks that have broken tests before (tests/suite_clock.py): a Monday
# just after midnight, a Sunday just before it, the last day of a year; each in a zone far
# from UTC.
test-clocks: $(STAMP) system-packages
	ROLLER_NOW=2026-12-07T00:30:00+14:00 TZ=Pacific/Kiritimati $(BIN)/pytest
	ROLLER_NOW=2026-12-13T23:59:00-10:00 TZ=Pacific/Honolulu $(BIN)/pytest
	ROLLER_NOW=2026-12-31T23:59:30+05:45 TZ=Asia/Kathmandu $(BIN)/pytest

# Every bench, in the order the README quotes them. make test runs each with --quick (small
# sizes, seconds each), so a bench that no longer runs fails CI instead of rotting unseen.
BENCHES := analysis startup placement coverage parts flip store ble mqtt ingest dashboard devices memory \
  gateway proxy

bench: $(STAMP)
	set -e; for b in $(BENCHES); do $(BIN)/python -m bench.$$b; done

bench-quick: $(STAMP)
	set -e; for b in $(BENCHES); do echo "bench.$$b --quick"; \
	  $(BIN)/python -m bench.$$b --quick > /dev/null; done

lint: $(STAMP)
	$(BIN)/ruff check tracker firmware_sim dashboards tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
