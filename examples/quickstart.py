"""Read and verify a party card through a reader: python examples/quickstart.py PORT PKI_DIR CAN"""

import os
import sys
from pathlib import Path

import partycard

port, pki, can = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
verifier = partycard.DocumentVerifier.from_paths([pki / "root-ca.pem"], [pki / "root-ca.crl.pem"])
nonce = os.urandom(8)  # the Active Authentication challenge: fresh for every read
with partycard.open_reader(port) as reader:
    reader.wait_card(timeout_s=10)
    doc = partycard.read_document(reader, can=can, aa_challenge=nonce)
member = partycard.parse_dg13(doc.files["DG13"])
verdict, _summary = verifier(doc, nonce)
print(member.full_name, member.card_number, doc.access_control, verdict["verdict"])
