"""Card layer, ops: the card.* and apdu request handlers; every value checked before anything runs.

SPEC.md §3.2 orders the checks: the body's schema (E_SCHEMA), then its values (E_BAD_ARGUMENT,
E_APDU_TOO_LARGE), and only then the reader's state (E_NOT_ACTIVE, E_NO_CARD). An APDU refused
half-way through a batch would leave the card having run the ones before it, whose responses the
error does not carry: a secure-messaging counter out of step with the host. Kept apart from the
service so that a card session without the link (the card-layer soak) does not carry it.
"""

from reader.errors import APDUTooLarge, ReaderFault
from reader.link import codes
from reader.link.schema import check_keys, get_bstr, get_list, get_uint


def check_apdu(apdu, index):
    """ISO/IEC 7816-4 §5.1: a command has at least its 4-byte header; MAX_APDU is the link's cap."""
    detail = None if index is None else {"index": index}
    if len(apdu) < 4:
        raise ReaderFault("a command APDU has at least 4 bytes", detail, code=codes.E_BAD_ARGUMENT)
    if len(apdu) > codes.MAX_APDU:
        too_large = "command APDU exceeds " + str(codes.MAX_APDU) + " bytes"
        raise APDUTooLarge(too_large, detail or {"limit": codes.MAX_APDU})


def register(app, svc):
    """Register the card ops of ``svc`` (a CardService) with ``app``."""

    def op_wait(ctx, body):
        check_keys(body, ("timeout_ms",))
        # Capped well below the watchdog period, which only the main loop feeds (SPEC.md §4).
        return svc.wait_card(ctx, get_uint(body, "timeout_ms", hi=codes.MAX_WAIT_MS))

    def op_apdu(ctx, body):
        check_keys(body, ("apdu",))
        apdu = get_bstr(body, "apdu")
        check_apdu(apdu, None)
        return {"response": svc.transmit(ctx, apdu)}

    def op_batch(ctx, body):
        check_keys(body, ("apdus", "continue"))
        # Both keys' types first, then their values.
        apdus = get_list(body, "apdus", "bstr")
        cont = get_list(body, "continue", "uint", default=None)
        if not 1 <= len(apdus) <= codes.MAX_BATCH:
            raise ReaderFault("apdus has a bad number of items", {"key": "apdus"}, code=codes.E_BAD_ARGUMENT)
        for i in range(len(apdus)):
            check_apdu(apdus[i], i)
        if cont is None:
            cont = (0x9000,)  # an empty list is a choice of its own: stop after the first APDU
        for sw in cont:
            if sw > 0xFFFF:
                msg = "continue holds a value that is not a status word"
                raise ReaderFault(msg, {"key": "continue"}, code=codes.E_BAD_ARGUMENT)
        return {"responses": svc.transmit_batch(ctx, apdus, cont)}

    def op_release(ctx, body):
        check_keys(body, ())
        svc.release(ctx)
        return {}

    app.register(codes.OP_CARD_WAIT, op_wait)
    app.register(codes.OP_APDU, op_apdu)
    app.register(codes.OP_APDU_BATCH, op_batch)
    app.register(codes.OP_CARD_RELEASE, op_release)
