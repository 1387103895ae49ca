"""App layer, hello and the device ops (SPEC.md §4): config.get, selftest, reboot and ui
(config.set is ``reader.config.run``).

Loaded by ``Reader.device_op`` (reader/app.py) for one request and dropped after it: these ops are
rare, and on the unix port (and for .mpy files on a board) loaded code takes heap; a ``Player``
keeps it only while its pattern plays. What must outlive that stays in app.py: the idle hook that
advances the player, and the main loop, which alone feeds the watchdog (``board.watchdog()``:
machine.WDT on the ESP32, a feed counter on the unix port) and performs the reset that ``reboot``
asked for after its reply went out. No machine here.
"""

from reader import VERSION, clock
from reader.link import codes
from reader.link.schema import check_keys, get_bool, get_tstr

PATTERNS = ("ok", "fail", "busy", "off", "error")
# Steps (green, red, tone_hz, ms): LEDs on or off, the passive buzzer's PWM frequency (0 = silent;
# hardware/bom.csv BZ1) and the step's length. A 0 ms step holds its outputs until the next
# pattern; after the last timed step everything goes off. ``config.set {"patterns"}`` overrides.
DEFAULTS = {
    "ok": ((1, 0, 2000, 150), (1, 0, 0, 850)),
    "fail": ((0, 1, 1000, 400), (0, 1, 0, 600)),
    "error": ((0, 1, 1000, 100), (0, 0, 0, 100), (0, 1, 1000, 100), (0, 0, 0, 100), (0, 1, 1000, 100)),
    "busy": ((1, 1, 0, 0),),
    "off": ((0, 0, 0, 0),),
}
NO_SELFTEST = {"frontend": None, "firmware": None, "rf": False, "ok": False}


def run(reader, ctx, body):
    op = ctx.op
    if op == codes.OP_HELLO:
        check_keys(body, ())
        svc = reader.card_service
        return {
            "protocol": codes.PROTOCOL_VERSION,
            "firmware": VERSION,
            "serial": ctx.board.serial,
            "max_payload": codes.MAX_PAYLOAD,
            "frontend": None if svc is None else svc.frontend_name(),
            "ops": ctx.ops(),
            "boot_id": reader.boot_id,
            "board": ctx.board.name,
        }
    if op == codes.OP_UI:
        check_keys(body, ("pattern",))
        name = get_tstr(body, "pattern", max_len=codes.MAX_KEY_LEN, choices=PATTERNS)
        mine = reader.stored.get("patterns")
        steps = mine[name] if isinstance(mine, dict) and name in mine else DEFAULTS[name]
        reader.player = Player(reader, steps)
        reader.ui_pattern = name
        return {}
    if op == codes.OP_REBOOT:
        check_keys(body, ("maintenance",))
        if get_bool(body, "maintenance", False):
            # SPEC.md §4: the next start leaves the REPL to mpremote instead of starting the reader.
            from reader import maintenance

            maintenance.request()
        reader.reboot_pending = True  # the {} reply goes out first; the main loop then resets
        return {}
    check_keys(body, ())
    if op == codes.OP_CONFIG_GET:
        return {"config": reader.stored}
    # selftest: the card layer's, when there is a front-end and its service has one
    svc = reader.card_service
    test = getattr(svc, "selftest", None) if svc is not None else None
    return dict(NO_SELFTEST) if test is None else test(ctx)


class Player:
    """Plays one pattern: the first step at once, the next ones from the idle hook
    (``Reader.ui_tick``), so a pattern never blocks the link. The board drives the pins."""

    def __init__(self, reader, steps):
        self.reader = reader
        self.steps = steps
        self.step = 0
        self.until = clock.ticks_ms()
        self._apply()

    def _apply(self):
        step = self.steps[self.step]
        self.reader.app.board.outputs(step[0], step[1], step[2])
        self.until = clock.ticks_add(clock.ticks_ms(), step[3])

    def tick(self):
        if clock.ticks_diff(clock.ticks_ms(), self.until) < 0:
            return
        if self.steps[self.step][3] == 0:  # a 0 ms step holds its outputs until the next pattern
            self.reader.player = None
            return
        self.step += 1
        if self.step < len(self.steps):
            self._apply()
        else:
            self.reader.player = None
            self.reader.app.board.outputs(0, 0, 0)
