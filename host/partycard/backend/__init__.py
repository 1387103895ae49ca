"""Backend layer: the reference receiver of result records (Starlette app, stores, test server).

It stands in for the member database's ingestion endpoint: it validates, deduplicates and stores
records so the forwarding path can be tested end to end over real HTTP. It must not import the
reader link, card or verification layers.
"""
