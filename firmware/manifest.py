# Freeze the reader into a MicroPython image (docs/reference/manifest.rst):
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/abs/path/firmware/manifest.py
include("$(PORT_DIR)/boards/manifest.py")  # noqa: F821 - manifest functions are provided by the build
package("reader", base_path="lib")  # noqa: F821
module("main.py")  # noqa: F821
