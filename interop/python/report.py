"""Check reporting shared by the Python scripts (same lines as the Node ones).

Every check prints `<library> <version>: <step> ... ok`, or
`FAIL <library> <version>: <step>: <error>`. The first failure ends its flow (later
steps need its result); other flows still run. Totals go to $INTEROP_RESULTS.
"""

import contextlib
import os
import sys
from importlib.metadata import version as installed_version


class FlowStopped(Exception):
    pass


def env(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"environment variable {name} is not set (run interop/run)")
    return value


def expect(cond, what):
    if not cond:
        raise AssertionError(f"expected {what}")


def describe(err):
    text = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    # requests' HTTPError: say what the server answered.
    response = getattr(err, "response", None)
    if response is not None and hasattr(response, "status_code"):
        text += f" (HTTP {response.status_code}: {response.text[:300]})"
    return " ".join(text.split())


class Reporter:
    def __init__(self, library, package):
        self.label = f"{library} {installed_version(package)}"
        self.library, self.version = library, installed_version(package)
        self.passed = self.failed = 0

    def check(self, step, fn):
        """Runs one step and returns its value; a failure stops the flow."""
        try:
            value = fn()
        except Exception as err:  # noqa: BLE001 - every failure is reported
            self.failed += 1
            print(f"FAIL {self.label}: {step}: {describe(err)}", flush=True)
            raise FlowStopped(step) from err
        self.passed += 1
        print(f"{self.label}: {step} ... ok", flush=True)
        return value

    @contextlib.contextmanager
    def flow(self, name):
        """A group of dependent steps: a failure skips the rest of the group only."""
        try:
            yield
        except FlowStopped:
            print(f"{self.label}: {name}: remaining steps skipped", flush=True)
        except Exception as err:  # noqa: BLE001
            self.failed += 1
            print(f"FAIL {self.label}: {name}: {describe(err)}", flush=True)

    def finish(self):
        result = "pass" if self.failed == 0 and self.passed > 0 else "FAIL"
        print(f"{self.label}: {self.passed} passed, {self.failed} failed", flush=True)
        results = os.environ.get("INTEROP_RESULTS")
        if results:
            with open(results, "a", encoding="utf-8") as f:
                f.write(f"{self.library}\t{self.version}\t{result} "
                        f"({self.passed} passed, {self.failed} failed)\n")
        sys.exit(0 if result == "pass" else 1)
