"""Tiny test runner for firmware tests, for MicroPython (which has no unittest) and CPython.

Usage: fwrun.py MODULE [MODULE ...]   (module names importable from the path, e.g. link.fw_test_cbor)

Runs every top-level function named test_* in each module, prints one line per failure with its
traceback, and ends with the plain closing line "N passed, N failed". Exit status 1 on any failure.
"""

import sys


def _print_exc(exc):
    try:
        sys.print_exception(exc)  # MicroPython
    except AttributeError:
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)


def run(modules):
    passed = 0
    failed = 0
    for name in modules:
        mod = __import__(name)
        for part in name.split(".")[1:]:
            mod = getattr(mod, part)
        for attr in sorted(dir(mod)):
            if not attr.startswith("test_"):
                continue
            fn = getattr(mod, attr)
            try:
                fn()
            except Exception as exc:
                failed += 1
                print("FAIL", name + "." + attr, repr(exc))
                _print_exc(exc)
            else:
                passed += 1
                print("ok", name + "." + attr)
    print(str(passed) + " passed, " + str(failed) + " failed")
    return failed


if __name__ == "__main__":
    sys.exit(1 if run(sys.argv[1:]) else 0)
